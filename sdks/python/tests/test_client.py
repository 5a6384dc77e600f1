"""The generated Python SDK against a live server: AGENT_SANDBOX_URL, AGENT_SANDBOX_API_KEY (a tenant's
key) and AGENT_SANDBOX_POOL name what to use. Errors are the SDK's typed models, one per status."""

import os

from agent_sandbox_client import AuthenticatedClient, Client
from agent_sandbox_client.api.sandboxes import (
    sandboxes_create,
    sandboxes_delete,
    sandboxes_get,
    sandboxes_list,
)
from agent_sandbox_client.models import (
    CreateSandboxRequest,
    CreateSandboxRequestMetadata,
    Sandbox,
    SandboxNotFound,
    SandboxPage,
    Unauthorized,
)

URL = os.environ["AGENT_SANDBOX_URL"]
KEY = os.environ["AGENT_SANDBOX_API_KEY"]
POOL = os.environ["AGENT_SANDBOX_POOL"]


def client() -> AuthenticatedClient:
    # A bearer token carries the same key as X-API-Key.
    return AuthenticatedClient(base_url=URL, token=KEY)


def test_create_get_list_release():
    with client() as c:
        metadata = CreateSandboxRequestMetadata.from_dict({"sdk": "python"})
        created = sandboxes_create.sync(client=c, body=CreateSandboxRequest(pool=POOL, metadata=metadata))
        assert isinstance(created, Sandbox), created
        assert created.pool == POOL
        assert created.metadata.to_dict() == {"sdk": "python"}

        got = sandboxes_get.sync(client=c, id=created.id)
        assert isinstance(got, Sandbox)
        assert got.pod == created.pod

        page = sandboxes_list.sync(client=c, metadata="sdk=python")
        assert isinstance(page, SandboxPage)
        assert [s.id for s in page.items] == [created.id]

        released = sandboxes_delete.sync_detailed(client=c, id=created.id)
        assert released.status_code == 204

        gone = sandboxes_get.sync(client=c, id=created.id)
        assert isinstance(gone, SandboxNotFound)
        assert gone.sandbox_id == created.id


def test_unknown_key_is_unauthorized():
    with Client(base_url=URL, headers={"x-api-key": "e2b_" + "0" * 40}) as c:
        answer = sandboxes_list.sync_detailed(client=c)
        assert answer.status_code == 401
        assert isinstance(answer.parsed, Unauthorized)
