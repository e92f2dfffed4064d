"""Shared fixtures: one persona per role (alice the owner, ...), the catalog, demo models."""

from __future__ import annotations

import io

import pandas as pd
import pytest
import torch

PERSONAS = {
    "alice": "model_owner",
    "bob": "risk_officer",
    "sam": "security_reviewer",
    "carla": "compliance_officer",
    "erik": "executive_approver",
    "aude": "auditor",
    "root": "admin",
}


# Tiny models: one thread is as fast, and much faster when the 2 cores are shared with a worker.
torch.set_num_threads(1)


DATABASE_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def pytest_addoption(parser):
    parser.addoption("--database-tests-only", action="store_true",
                     help="run only the tests that touch the database (make test-db: the same tests on PostgreSQL)")


def uses_database(item):
    return item.get_closest_marker("django_db") is not None or bool(DATABASE_FIXTURES & set(item.fixturenames))


def pytest_collection_modifyitems(config, items):
    if config.getoption("--database-tests-only"):
        # A test that never opens a connection runs the same on any database: once is enough.
        pure = [item for item in items if not uses_database(item)]
        if pure:
            config.hook.pytest_deselected(items=pure)
            items[:] = [item for item in items if uses_database(item)]
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def catalog(db):
    """The controls catalog, roles and default policies (reloaded after transactional flushes)."""
    from governance.catalog.loader import catalog_load
    from governance.demo.setup import roles_ensure
    from governance.catalog.models import Control
    from governance.policies.services import policies_ensure_defaults

    if not Control.objects.exists():
        catalog_load()
    roles_ensure()
    policies_ensure_defaults()


@pytest.fixture
def personas(catalog, django_user_model):
    from django.contrib.auth.models import Group

    users = {}
    for name, role in PERSONAS.items():
        user = django_user_model.objects.create_user(name, password="pw-" + name, first_name=name.title())
        user.groups.add(Group.objects.get(name=role))
        users[name] = user
    # A second model owner, to prove owners act on their own systems only.
    other = django_user_model.objects.create_user("oscar", password="pw-oscar")
    other.groups.add(Group.objects.get(name="model_owner"))
    users["oscar"] = other
    return users


@pytest.fixture
def api(personas):
    """api("carla"): an API client signed in with that persona's token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def client_for(name):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=personas[name])[0].key}")
        return client

    return client_for


@pytest.fixture(scope="session")
def credit_frames():
    from sklearn.model_selection import train_test_split

    from governance.demo.datasets import DATA_DIR

    frame = pd.read_csv(DATA_DIR / "german_credit.csv")
    return train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["risk"])


@pytest.fixture(scope="session")
def credit_pipeline(credit_frames):
    """A scikit-learn pipeline (scaled numbers, one-hot categories, logistic regression) fitted on
    the credit training split, as an owner would upload it as a .skops file."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train, _ = credit_frames
    numeric = [c for c in CREDIT_SCHEMA["features"] if c not in CREDIT_SCHEMA["categorical"]]
    encoder = make_column_transformer((StandardScaler(), numeric),
                                      (OneHotEncoder(handle_unknown="ignore"), CREDIT_SCHEMA["categorical"]))
    return make_pipeline(encoder, LogisticRegression(max_iter=200)).fit(train[CREDIT_SCHEMA["features"]],
                                                                          train["risk"])


@pytest.fixture(scope="session")
def credit_model(credit_frames):
    """A small seeded MLP on German credit: (safetensors bytes, spec)."""
    from governance.demo.datasets import CREDIT_CATEGORICAL, CREDIT_NUMERIC
    from training.artifacts import torch_artifact
    from training.recipes import tabular_mlp_spec, train_from_spec

    train, _ = credit_frames
    spec = tabular_mlp_spec(train, numeric=CREDIT_NUMERIC, categorical=CREDIT_CATEGORICAL, classes=[0, 1],
                            training={"epochs": 5})
    return torch_artifact(train_from_spec(spec, train, label_column="risk", device=torch.device("cpu"))), spec


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue().encode()


CREDIT_SCHEMA = {
    "features": ["credit_amount", "duration", "age", "sex", "job", "housing", "saving_accounts", "checking_account", "purpose"],
    "label": "risk",
    "sensitive": ["sex", "age"],
    "categorical": ["sex", "job", "housing", "saving_accounts", "checking_account", "purpose"],
}


@pytest.fixture
def credit_system(personas, credit_frames, credit_model):
    """A registered credit system owned by alice, with datasets and version 1.0.0."""
    from governance.registry import services

    alice = personas["alice"]
    train, test = credit_frames
    system = services.system_create(actor=alice, name="Credit", slug="credit", purpose="Scores loans", risk_tier="high")
    train_ds = services.dataset_register(actor=alice, system=system, name="train", role="train",
                                         upload=csv_bytes(train), schema=CREDIT_SCHEMA)
    test_ds = services.dataset_register(actor=alice, system=system, name="test", role="test",
                                        upload=csv_bytes(test), schema=CREDIT_SCHEMA)
    artifact, spec = credit_model
    version = services.model_version_register(actor=alice, system=system, version="1.0.0", artifact=artifact, spec=spec,
                                              train_dataset=train_ds, eval_dataset=test_ds)
    return system, version


@pytest.fixture(autouse=True)
def _media_root(request, tmp_path):
    """Each test stores uploads in its own folder (pure tests may run with -p no:django)."""
    if request.config.pluginmanager.hasplugin("django"):
        request.getfixturevalue("settings").MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _clean_cache(request):
    """Each test starts with an empty cache: the public intake's rate limit and spent stamps live there,
    and a live server shares the process's cache, so one test's reports must not spend another's budget."""
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
