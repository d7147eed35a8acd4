package vault

import (
	"context"
	"encoding/json"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// getJSON reads the JSON record at key into v.
func getJSON(ctx context.Context, records Records, key string, v any) error {
	data, err := records.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("vault: %s: %w", key, err)
	}
	return nil
}

// createJSON writes v at key with a conditional create.
func (s *Service) createJSON(ctx context.Context, key string, v any, lock *Lock) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("vault: %s: %w", key, err)
	}
	return s.records.Create(ctx, key, data, lock)
}

// putJSON overwrites key with v: only for progress the vault re-checks.
func (s *Service) putJSON(ctx context.Context, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("vault: %s: %w", key, err)
	}
	return s.records.Put(ctx, key, data)
}

// fetchConcurrency bounds parallel GETs when a listing needs the bodies.
const fetchConcurrency = 16

// getAllJSON reads the JSON records at keys, in order, a few at a time.
func getAllJSON[T any](ctx context.Context, records Records, keys []string) ([]T, error) {
	out := make([]T, len(keys))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	for i, key := range keys {
		g.Go(func() error { return getJSON(ctx, records, key, &out[i]) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
