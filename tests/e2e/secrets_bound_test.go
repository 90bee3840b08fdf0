package e2e

import (
	"context"
	"strings"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Someone who can write to the webhook table copies another application's
// stored secret into the row of their own endpoint, to have their events
// signed with it and replay them to that application's receiver. The copy
// does not decrypt there: nothing is sent, signed with either secret.
func TestWebhookSecretCopiedToAnotherEndpointSignsNothing(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	attacker, victim := e.CreateApp("Attacker GPT"), e.CreateApp("Victim GPT")
	hook := harness.NewHookReceiver(t, nil)
	e.SetWebhook(attacker.AppID, hook.Srv.URL)
	victimSecret := e.SetWebhook(victim.AppID, "https://hooks.example.com/victim")
	e.Start("serve")
	e.AcceptCreate(attacker.APIKey, "an event of the attacker's own")
	e.Eventually("the attacker's webhook arrives", func() bool { return len(hook.Requests()) == 1 })
	var delivery string
	e.Eventually("the delivery is recorded", func() bool {
		d := e.Deliveries(attacker.AppID)
		if len(d.Deliveries) == 1 && d.Deliveries[0].Status == "succeeded" {
			delivery = d.Deliveries[0].DeliveryID
		}
		return delivery != ""
	})

	if _, err := e.Pool().Exec(context.Background(), `UPDATE custom_gpt_webhook_endpoints
		SET secret = (SELECT secret FROM custom_gpt_webhook_endpoints WHERE app_id = $1) WHERE app_id = $2`,
		victim.AppID, attacker.AppID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.RunCLI("webhooks", "redeliver", delivery); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Errorf("redeliver with a copied secret: %v", err)
	}
	reqs := hook.Requests()
	if len(reqs) != 1 {
		wh, _ := standardwebhooks.NewWebhook(victimSecret)
		t.Fatalf("%d webhooks sent after the copy; the last verifies with the victim's secret: %v",
			len(reqs)-1, wh.Verify(reqs[len(reqs)-1].Body, reqs[len(reqs)-1].Header) == nil)
	}
}
