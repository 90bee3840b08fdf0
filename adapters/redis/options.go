package redis

import (
	"errors"
	"fmt"

	"github.com/redis/go-redis/extra/redisotel/v9"
	goredis "github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// Mode is the Redis topology the service talks to. Every part of the service
// holds a goredis.UniversalClient, so the topology is a setting, not code.
type Mode string

const (
	// ModeSingle is one server (or a managed endpoint that fails over behind one address).
	ModeSingle Mode = "single"
	// ModeSentinel is a primary with replicas, found and failed over through Sentinel.
	ModeSentinel Mode = "sentinel"
	// ModeCluster is Redis Cluster. Each stream and each rate-limit budget is
	// one key, so nothing the service does spans hash slots.
	ModeCluster Mode = "cluster"
)

// Options is how to reach Redis in one topology.
type Options struct {
	mode     Mode
	single   *goredis.Options
	sentinel *goredis.FailoverOptions
	cluster  *goredis.ClusterOptions
	tracer   trace.TracerProvider // nil: clients make no spans
}

// WithTracer is o whose clients make a span of each command, or pipeline,
// sent inside a trace (redisotel); outside one, none, so a subscriber's
// polling adds nothing. Commands' arguments are left out of the spans: they
// hold what users wrote.
func (o *Options) WithTracer(tp trace.TracerProvider) *Options {
	c := *o
	c.tracer = nil
	if tracing.On(tp) {
		c.tracer = tracing.ChildrenOnly(tp)
	}
	return &c
}

// ParseURL reads a redis:// or rediss:// URL for mode. Sentinel and Cluster
// take further nodes as repeated "addr" query parameters; Sentinel needs
// "master_name" (go-redis's ParseFailoverURL and ParseClusterURL).
func ParseURL(url string, mode Mode) (*Options, error) {
	o := &Options{mode: mode}
	var err error
	switch mode {
	case ModeSingle, "":
		o.mode = ModeSingle
		o.single, err = goredis.ParseURL(url)
	case ModeSentinel:
		if o.sentinel, err = goredis.ParseFailoverURL(url); err == nil && o.sentinel.MasterName == "" {
			err = errors.New("sentinel mode needs the master_name query parameter")
		}
	case ModeCluster:
		o.cluster, err = goredis.ParseClusterURL(url)
	default:
		return nil, fmt.Errorf("unknown redis mode %q: single, sentinel or cluster", mode)
	}
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	return o, nil
}

// NewClient opens a client. Watermill's publishers and subscribers close the
// client they are given, so each of them gets its own.
func NewClient(o *Options) goredis.UniversalClient {
	var client goredis.UniversalClient
	switch o.mode {
	case ModeSentinel:
		c := *o.sentinel
		client = goredis.NewFailoverClient(&c)
	case ModeCluster:
		c := *o.cluster
		client = goredis.NewClusterClient(&c)
	default:
		c := *o.single
		client = goredis.NewClient(&c)
	}
	if o.tracer != nil {
		// It fails only for a client type it does not know, which NewClient never makes.
		_ = redisotel.InstrumentTracing(client, redisotel.WithTracerProvider(o.tracer), redisotel.WithDBStatement(false))
	}
	return client
}
