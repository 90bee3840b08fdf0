package main

import (
	"context"
	"strings"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Someone who can write to the webhook table copies another application's
// stored secret into the row of their own endpoint, to have their events
// signed with it and replay them to that application's receiver. The copy
// does not decrypt there: nothing is sent, signed with either secret.
func TestWebhookSecretCopiedToAnotherEndpointSignsNothing(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	attacker, victim := e.createApp("Attacker GPT"), e.createApp("Victim GPT")
	hook := newHookReceiver(t, nil)
	e.setWebhook(attacker.AppID, hook.srv.URL)
	victimSecret := e.setWebhook(victim.AppID, "https://hooks.example.com/victim")
	e.start("serve")
	e.acceptCreate(attacker.APIKey, "an event of the attacker's own")
	e.eventually("the attacker's webhook arrives", func() bool { return len(hook.requests()) == 1 })
	var delivery string
	e.eventually("the delivery is recorded", func() bool {
		d := e.deliveries(attacker.AppID)
		if len(d.Deliveries) == 1 && d.Deliveries[0].Status == "succeeded" {
			delivery = d.Deliveries[0].DeliveryID
		}
		return delivery != ""
	})

	if _, err := e.pool().Exec(context.Background(), `UPDATE custom_gpt_webhook_endpoints
		SET secret = (SELECT secret FROM custom_gpt_webhook_endpoints WHERE app_id = $1) WHERE app_id = $2`,
		victim.AppID, attacker.AppID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cli("webhooks", "redeliver", delivery); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Errorf("redeliver with a copied secret: %v", err)
	}
	reqs := hook.requests()
	if len(reqs) != 1 {
		wh, _ := standardwebhooks.NewWebhook(victimSecret)
		t.Fatalf("%d webhooks sent after the copy; the last verifies with the victim's secret: %v",
			len(reqs)-1, wh.Verify(reqs[len(reqs)-1].body, reqs[len(reqs)-1].header) == nil)
	}
}
