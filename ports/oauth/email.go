package oauth

import "strings"

// normalizeEmail keys rate limits so "A@x.com " and "a@x.com" share a budget.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
