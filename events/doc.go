// Package events holds the wire payloads of the commands and events the service
// exchanges over Redis streams, and the names of their topics.
//
// Every payload is JSON with a "version" field. A change that old consumers cannot
// read gets a new version number; fields are only ever added within a version.
// The Watermill message carries the payload's name (metadata "name", the Go type
// name, so moving a package never renames a topic) and a "correlation_id" that
// starts as the HTTP request id and follows the work through every hop; when
// the service traces, a W3C "traceparent" too, so that each hop's span is the
// child of the one before (events add CETraceParent, where they were made).
package events

// Version is the current version of every payload in this package.
const Version = 1
