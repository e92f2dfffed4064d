"""`stored` deletes a file only when its row did not commit: a failure after the commit (an
on-commit hook such as a broker that is down) never takes a committed row's file."""

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from governance.registry.uploads import stored


def _broker_down():
    raise ConnectionRefusedError("broker down")


@pytest.mark.django_db(transaction=True)
def test_a_hook_that_fails_after_the_commit_leaves_the_file_in_place():
    with pytest.raises(ConnectionRefusedError):
        with stored("datasets", "a" * 64, "csv", b"x,y\n1,2\n") as path:
            transaction.on_commit(_broker_down)  # not robust: it raises out of the commit
    assert default_storage.exists(path)
    default_storage.delete(path)


@pytest.mark.django_db(transaction=True)
def test_a_block_that_fails_before_the_commit_deletes_its_file():
    with pytest.raises(ValueError):
        with stored("datasets", "b" * 64, "csv", b"x,y\n1,2\n") as path:
            raise ValueError("the row could not be written")
    assert not default_storage.exists(path)
