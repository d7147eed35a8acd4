package vault

import "context"

// AppendEvent appends ev as it is given: an auditor's export without
// Unlinked stands for one logged before exports were unlinked, which a
// log keeps for good.
func (s *Service) AppendEvent(ctx context.Context, ev LifecycleEvent) (LoggedEvent, error) {
	logged, _, err := s.appendLifecycle(ctx, ev)
	return logged, err
}
