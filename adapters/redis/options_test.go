package redis_test

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

func TestClientPerTopology(t *testing.T) {
	t.Parallel()
	single, err := redis.ParseURL(redistest.URL(), redis.ModeSingle)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(single)
	defer c.Close()
	if err := redis.Ping(context.Background(), c); err != nil {
		t.Fatalf("single-server client cannot reach the test Redis: %v", err)
	}

	cluster, err := redis.ParseURL("redis://10.0.0.1:6379?addr=10.0.0.2:6379", redis.ModeCluster)
	if err != nil {
		t.Fatal(err)
	}
	cc := redis.NewClient(cluster)
	defer cc.Close()
	if _, ok := cc.(*goredis.ClusterClient); !ok {
		t.Errorf("cluster mode built a %T", cc)
	}

	sentinel, err := redis.ParseURL("redis://10.0.0.1:26379?master_name=primary&addr=10.0.0.2:26379", redis.ModeSentinel)
	if err != nil {
		t.Fatal(err)
	}
	sc := redis.NewClient(sentinel)
	defer sc.Close()
	if _, ok := sc.(*goredis.Client); !ok { // a failover client is a *Client that asks Sentinel for the primary
		t.Errorf("sentinel mode built a %T", sc)
	}
	if _, err := redis.ParseURL("redis://10.0.0.1:26379", redis.ModeSentinel); err == nil {
		t.Error("sentinel mode without master_name was accepted")
	}
	if _, err := redis.ParseURL("redis://10.0.0.1:6379", "ring"); err == nil {
		t.Error("an unknown mode was accepted")
	}
}
