package evault

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/spf13/cobra"
)

// knownVaults keeps the pins of the logs evault has met, like SSH's
// known_hosts: {configDir}/evault/known_vaults.json, readable by its owner
// only, one entry per log origin.
type knownVaults struct {
	path string
}

type knownFile struct {
	Logs map[string]client.Pin `json:"logs"`
}

var _ client.Pins = knownVaults{}

func (k knownVaults) Where() string { return k.path }

func (k knownVaults) read() (knownFile, error) {
	f := knownFile{Logs: map[string]client.Pin{}}
	data, err := os.ReadFile(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	if err != nil {
		return f, exit(ExitError, "known vaults %s: %v", k.path, err)
	}
	if f.Logs == nil {
		f.Logs = map[string]client.Pin{}
	}
	return f, nil
}

func (k knownVaults) Pin(origin string) (*client.Pin, error) {
	f, err := k.read()
	if err != nil {
		return nil, err
	}
	p, ok := f.Logs[origin]
	if !ok {
		return nil, nil
	}
	return &p, nil
}

func (k knownVaults) All() ([]client.Pin, error) {
	f, err := k.read()
	if err != nil {
		return nil, err
	}
	return slices.Collect(maps.Values(f.Logs)), nil
}

// Keep writes the file anew beside itself and renames it into place, so
// that a crash leaves the old pins or the new ones, never half of either.
func (k knownVaults) Keep(p client.Pin) error {
	f, err := k.read()
	if err != nil {
		return err
	}
	f.Logs[p.Origin] = p
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return exit(ExitError, "known vaults: %v", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(k.path), ".known_vaults-*")
	if err != nil {
		return exit(ExitError, "known vaults: %v", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), k.path)
	}
	if err != nil {
		return exit(ExitError, "known vaults %s: %v", k.path, err)
	}
	return nil
}

// known returns the pin store.
func (a *app) known() knownVaults {
	return knownVaults{path: filepath.Join(a.configDir(), "evault", "known_vaults.json")}
}

// configDir is where evault keeps its files: Main.ConfigDir, else the
// user's configuration directory.
func (a *app) configDir() string {
	if a.main.ConfigDir != "" {
		return a.main.ConfigDir
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "."
	}
	return dir
}

// view verifies the caller's log: from the keys in files when given (the
// pins are then neither read nor changed), else from the pinned key,
// pinning the log's key on first use.
func (a *app) view(cmd *cobra.Command, files []string) (*client.View, error) {
	var keys []receipt.Key
	if len(files) > 0 {
		var err error
		if keys, err = readKeys(files); err != nil {
			return nil, err
		}
	}
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	policy, err := a.policy()
	if err != nil {
		return nil, err
	}
	known := a.known()
	// The witness policy is checked before anything is pinned or kept.
	v, err := cl.OpenChecked(cmd.Context(), known, keys, func(v *client.View) error {
		if policy.Witnesses == nil {
			return nil
		}
		if _, err := policy.Witnesses.Check(v.Signed); err != nil {
			return exit(ExitVerify, "log %s: its latest checkpoint (%d entries) does not meet your witness policy: %v", v.Origin, v.Latest.Size, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.Trust.Policy = policy
	if v.FirstUse && !a.quiet {
		fmt.Fprintf(a.main.Stderr, "evault: first use of log %s: pinned its key %s in %s; compare it with the key your vault's operator published\n",
			v.Origin, v.Pinned[0].ID, known.Where())
	}
	return v, nil
}

// pinnedTrust is what the pin of a log trusts offline; nil if the log has
// no pin.
func (a *app) pinnedTrust(origin string) (*vault.Trust, []receipt.Key, []byte, error) {
	known := a.known()
	p, err := known.Pin(origin)
	if err != nil || p == nil {
		return nil, nil, nil, err
	}
	k, err := receipt.ParsePublicKey([]byte(p.Key.PEM))
	if err != nil {
		return nil, nil, nil, exit(ExitError, "known vaults %s: the key pinned for %s: %v", known.Where(), origin, err)
	}
	t, err := p.Trust(fmt.Sprintf("the key %s you pinned on %s (%s), and the keys the log's history led to from it when last checked",
		k.ID, p.PinnedAt.Format("2006-01-02"), known.Where()))
	if err != nil {
		return nil, nil, nil, err
	}
	if t.Policy, err = a.policy(); err != nil {
		return nil, nil, nil, err
	}
	return &t, []receipt.Key{k}, []byte(p.Checkpoint), nil
}
