package vault

import "slices"

// Page asks for part of a list in its stable order: at most Limit items
// (all when 0) after the one named After ("" for the first page). After is
// what the previous page's Next said.
type Page struct {
	Limit int
	After string
}

// Limits on a page's size, for the API: a page must fit in one Lambda
// response (6 MB) with room to spare.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// cut returns the page of items (sorted by key, each key unique) after
// p.After, and the key to continue after, or "" when nothing follows.
func cut[T any](items []T, key func(T) string, p Page) (page []T, next string) {
	start := 0
	if p.After != "" {
		start, _ = slices.BinarySearchFunc(items, p.After, func(t T, after string) int {
			if k := key(t); k <= after {
				return -1
			}
			return 1
		})
	}
	items = items[start:]
	if p.Limit <= 0 || len(items) <= p.Limit {
		return items, ""
	}
	return items[:p.Limit], key(items[p.Limit-1])
}
