package events

import "github.com/ThreeDotsLabs/watermill/components/cqrs"

// Marshaler is the wire codec of commands and events: a JSON payload named by
// its Go type name (not the package path), so moving a package never renames
// a stream. Publishers, the outbox and the worker share it.
var Marshaler = cqrs.JSONMarshaler{GenerateName: cqrs.StructName}
