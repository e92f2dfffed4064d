"""How the docs tests read a page's shell blocks and run them as one session."""

from __future__ import annotations

import pytest

from tests.docs.shell_blocks import curl_that_fails_on_http_errors, run_block, shell_blocks

PAGE = """# Title

```sh
A=1
echo "a is $A"
#=> a is 1
```

<!-- docs-test: not run (it serves forever) -->
```shell
make demo
```

```python
print("not a shell block")
```

```bash
echo "b"
```
"""


def test_only_sh_shell_and_bash_fences_are_shell_blocks_and_each_knows_its_line():
    blocks = shell_blocks(PAGE, path="page.md")
    assert [b.where for b in blocks] == ["page.md:3", "page.md:10", "page.md:18"]
    assert blocks[0].code == 'A=1\necho "a is $A"\n#=> a is 1\n'


def test_a_comment_above_the_fence_keeps_a_block_out_of_the_run_with_its_reason():
    assert [b.not_run for b in shell_blocks(PAGE)] == ["", "it serves forever", ""]


def test_a_hash_arrow_line_is_what_the_block_must_print():
    assert [b.expects for b in shell_blocks(PAGE)] == [["a is 1"], [], []]


def test_a_block_that_is_never_closed_is_an_error_naming_its_line():
    with pytest.raises(ValueError, match="page.md:1: a shell block is never closed"):
        shell_blocks("```sh\necho\n", path="page.md")


def test_variables_set_by_one_block_reach_the_next(tmp_path):
    first, _, third = shell_blocks(PAGE)
    ran = run_block(first, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert ran.returncode == 0 and ran.missing == []
    second = shell_blocks("```sh\necho \"A was $A\"\n#=> A was 1\n```\n")[0]
    assert run_block(second, cwd=tmp_path, env=ran.env).missing == []


def test_a_failing_command_fails_its_block_even_in_the_middle(tmp_path):
    block = shell_blocks("```sh\nfalse\necho after\n```\n")[0]
    ran = run_block(block, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert ran.returncode == 1 and "after" not in ran.stdout


def test_an_unset_variable_and_a_failing_pipe_fail_their_block(tmp_path):
    for code in ("echo $NEVER_SET", "false | cat"):
        block = shell_blocks(f"```sh\n{code}\n```\n")[0]
        assert run_block(block, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}).returncode != 0


def test_output_that_lacks_the_promised_text_is_missing(tmp_path):
    block = shell_blocks("```sh\necho deny\n#=> allow\n```\n")[0]
    assert run_block(block, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}).missing == ["allow"]


def test_curl_under_test_fails_on_an_http_error(tmp_path):
    shim = curl_that_fails_on_http_errors(tmp_path / "bin") / "curl"
    assert "--fail-with-body" in shim.read_text()
