package memorybank

// SetListPageSize makes c list in pages of n, so that tests reach a second page
// without storing a hundred memories.
func SetListPageSize(c *Client, n int) { c.listPageSize = n }
