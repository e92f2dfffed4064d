// Behaviour the pages share. Inline handlers (onclick="...") are refused by the Content-Security-Policy
// (script-src has no 'unsafe-inline'), so elements say what they do with data attributes instead.

// <button data-print>: print the page.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
