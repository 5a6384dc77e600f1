// The generated Go SDK against a live server: AGENT_SANDBOX_URL, AGENT_SANDBOX_API_KEY (a tenant's
// key) and AGENT_SANDBOX_POOL name what to use (packages/sdk-tests/test/GeneratedGoSdk.test.ts starts
// the operator and sets them). Errors are the SDK's typed models, one field per status.
package agentsandbox_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	agentsandbox "github.com/agent-sandbox/agent-sandbox-go"
)

func env(t *testing.T, name string) string {
	t.Helper()
	value := os.Getenv(name)
	if value == "" {
		t.Fatalf("%s is not set: run this through packages/sdk-tests/test/GeneratedGoSdk.test.ts", name)
	}
	return value
}

// withKey sends the key as X-API-Key on every request.
func withKey(key string) agentsandbox.ClientOption {
	return agentsandbox.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-API-Key", key)
		return nil
	})
}

func TestCreateGetListRelease(t *testing.T) {
	ctx := context.Background()
	pool := env(t, "AGENT_SANDBOX_POOL")
	c, err := agentsandbox.NewClientWithResponses(env(t, "AGENT_SANDBOX_URL"), withKey(env(t, "AGENT_SANDBOX_API_KEY")))
	if err != nil {
		t.Fatal(err)
	}

	metadata := map[string]interface{}{"sdk": "go"}
	created, err := c.SandboxesCreateWithResponse(ctx, agentsandbox.CreateSandboxRequest{Pool: pool, Metadata: &metadata})
	if err != nil {
		t.Fatal(err)
	}
	if created.JSON201 == nil {
		t.Fatalf("create: %d %s", created.StatusCode(), created.Body)
	}
	sandbox := created.JSON201
	if sandbox.Pool != pool || sandbox.Metadata["sdk"] != "go" {
		t.Fatalf("create: unexpected %+v", sandbox)
	}

	got, err := c.SandboxesGetWithResponse(ctx, sandbox.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got.JSON200 == nil || got.JSON200.Pod != sandbox.Pod {
		t.Fatalf("get: %d %s", got.StatusCode(), got.Body)
	}

	filter := "sdk=go"
	page, err := c.SandboxesListWithResponse(ctx, &agentsandbox.SandboxesListParams{Metadata: &filter})
	if err != nil {
		t.Fatal(err)
	}
	if page.JSON200 == nil || len(page.JSON200.Items) != 1 || page.JSON200.Items[0].Id != sandbox.Id {
		t.Fatalf("list: %d %s", page.StatusCode(), page.Body)
	}

	released, err := c.SandboxesDeleteWithResponse(ctx, sandbox.Id)
	if err != nil {
		t.Fatal(err)
	}
	if released.StatusCode() != http.StatusNoContent {
		t.Fatalf("release: %d %s", released.StatusCode(), released.Body)
	}

	gone, err := c.SandboxesGetWithResponse(ctx, sandbox.Id)
	if err != nil {
		t.Fatal(err)
	}
	if gone.StatusCode() != http.StatusNotFound || gone.JSON404 == nil || gone.JSON404.SandboxId != sandbox.Id {
		t.Fatalf("get after release: %d %s", gone.StatusCode(), gone.Body)
	}
	if gone.JSON404.UnderscoreTag != agentsandbox.SandboxNotFoundTagSandboxNotFound {
		t.Fatalf("get after release: tag %q", gone.JSON404.UnderscoreTag)
	}
}

func TestUnknownKeyIsUnauthorized(t *testing.T) {
	c, err := agentsandbox.NewClientWithResponses(env(t, "AGENT_SANDBOX_URL"), withKey("e2b_"+strings.Repeat("0", 40)))
	if err != nil {
		t.Fatal(err)
	}
	answer, err := c.SandboxesListWithResponse(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if answer.StatusCode() != http.StatusUnauthorized || answer.JSON401 == nil {
		t.Fatalf("list with an unknown key: %d %s", answer.StatusCode(), answer.Body)
	}
	if answer.JSON401.UnderscoreTag != agentsandbox.UnauthorizedTagUnauthorized {
		t.Fatalf("list with an unknown key: tag %q", answer.JSON401.UnderscoreTag)
	}
}
