package ledger

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Latest returns the newest checkpoint of the tenant's log as a signed
// note, first finishing any commit whose writer stopped half-way. A log
// without entries is a *NotFoundError.
func (l *Log) Latest(ctx context.Context, tenant string) (Checkpoint, []byte, error) {
	tl, err := l.tenant(tenant)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	tl.stateMu.Lock()
	defer tl.stateMu.Unlock()
	if err := l.refresh(ctx, tl, true); err != nil {
		return Checkpoint{}, nil, err
	}
	if tl.head.cp.Size == 0 {
		return Checkpoint{}, nil, &NotFoundError{Origin: tl.origin, Detail: fmt.Sprintf("log %s has no entries yet", tl.origin)}
	}
	return tl.head.cp, []byte(tl.head.signed), nil
}

// head returns a state of the log that holds at least size entries: the
// one this process has, probing storage for newer commits only when it
// holds fewer (a proof or a checkpoint of a size it has seen costs no
// read).
func (l *Log) head(ctx context.Context, tl *tenantLog, size int64) (*state, error) {
	tl.stateMu.Lock()
	defer tl.stateMu.Unlock()
	if err := l.refresh(ctx, tl, false); err != nil {
		return nil, err
	}
	if tl.head.cp.Size < size {
		if err := l.refresh(ctx, tl, true); err != nil {
			return nil, err
		}
	}
	return tl.head, nil
}

// CheckpointAt returns the signed checkpoint of the tree of the given size:
// every size at which a commit ended has one; other sizes are a
// *NotFoundError.
func (l *Log) CheckpointAt(ctx context.Context, tenant string, size int64) (Checkpoint, []byte, error) {
	tl, err := l.tenant(tenant)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if c, ok := tl.checkpoints.Load(size); ok {
		found := c.(foundCheckpoint)
		return found.cp, found.signed, nil
	}
	// The log's own checkpoint at a size is the one whose tree is the
	// log's: anything else there (a checkpoint a retired key signed over
	// a tree of its own, a copy) is passed over for the version beneath.
	head, err := l.head(ctx, tl, size)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if head.cp.Size == size {
		return head.cp, []byte(head.signed), nil
	}
	var cp Checkpoint
	data, _, err := firstValid(ctx, l.store, tl.checkpointKey(size), func(data []byte) (err error) {
		if cp, err = l.open(ctx, tl, data); err == nil && cp.Size != size {
			err = fmt.Errorf("%w: stored checkpoint %d says size %d", ErrInvalid, size, cp.Size)
		}
		if err == nil && size <= head.cp.Size {
			root, rerr := tlog.TreeHash(size, l.reader(ctx, tl, head))
			if rerr != nil || root != cp.Hash {
				err = fmt.Errorf("%w: stored checkpoint %d is not of the log's tree", ErrInvalid, size)
			}
		}
		return err
	})
	switch {
	case err != nil:
		return Checkpoint{}, nil, fmt.Errorf("ledger: stored checkpoint %d: %w", size, err)
	case data == nil:
		return Checkpoint{}, nil, &NotFoundError{Origin: tl.origin, Detail: fmt.Sprintf("log %s has no checkpoint at size %d", tl.origin, size)}
	}
	if size <= head.cp.Size && tl.checkpointsKept.Add(1) <= maxKeptCheckpoints {
		tl.checkpoints.Store(size, foundCheckpoint{cp, data})
	}
	return cp, data, nil
}

// maxKeptCheckpoints bounds the checkpoints a process keeps per log (a
// few hundred bytes each).
const maxKeptCheckpoints = 4096

// foundCheckpoint is a checkpoint CheckpointAt found the log's own.
type foundCheckpoint struct {
	cp     Checkpoint
	signed []byte
}

// InclusionProof proves entry index in the tree of the checkpoint at size.
func (l *Log) InclusionProof(ctx context.Context, tenant string, index, size int64) (Hashes, error) {
	if index < 0 || index >= size {
		return nil, &NotFoundError{Origin: l.Origin(tenant), Detail: fmt.Sprintf("index %d is outside a tree of %d entries", index, size)}
	}
	r, err := l.treeReader(ctx, tenant, size)
	if err != nil {
		return nil, err
	}
	p, err := tlog.ProveRecord(size, index, r)
	if err != nil {
		return nil, fmt.Errorf("ledger: prove entry %d in tree %d: %w", index, size, err)
	}
	return Hashes(p), nil
}

// ConsistencyProof proves that the tree of size from is a prefix of the
// tree of the checkpoint at size to.
func (l *Log) ConsistencyProof(ctx context.Context, tenant string, from, to int64) (Hashes, error) {
	if from < 1 || from > to {
		return nil, &NotFoundError{Origin: l.Origin(tenant), Detail: fmt.Sprintf("no consistency proof from size %d to size %d", from, to)}
	}
	r, err := l.treeReader(ctx, tenant, to)
	if err != nil {
		return nil, err
	}
	p, err := tlog.ProveTree(to, from, r)
	if err != nil {
		return nil, fmt.Errorf("ledger: prove tree %d in tree %d: %w", from, to, err)
	}
	return Hashes(p), nil
}

func (l *Log) treeReader(ctx context.Context, tenant string, size int64) (tlog.HashReader, error) {
	cp, _, err := l.CheckpointAt(ctx, tenant, size)
	if err != nil {
		return nil, err
	}
	tl, err := l.tenant(tenant)
	if err != nil {
		return nil, err
	}
	return l.reader(ctx, tl, &state{cp: cp}), nil
}
