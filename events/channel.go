package events

import "context"

// The doors a call comes through, as its audit entry records them.
const (
	ChannelAPI = "api" // the REST API (GPT Actions and any HTTP client)
	ChannelMCP = "mcp" // the MCP endpoint
)

type channelKey struct{}

// WithChannel carries the channel a call came through.
func WithChannel(ctx context.Context, channel string) context.Context {
	return context.WithValue(ctx, channelKey{}, channel)
}

// Channel returns the context's channel: the REST API unless a port said
// otherwise.
func Channel(ctx context.Context) string {
	if c, _ := ctx.Value(channelKey{}).(string); c != "" {
		return c
	}
	return ChannelAPI
}
