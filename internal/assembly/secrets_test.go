package assembly

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// fakeSecrets answers GetSecretValue from a map, or fails.
type fakeSecrets struct {
	values map[string]string
	asked  []string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	id := aws.ToString(in.SecretId)
	f.asked = append(f.asked, id)
	v, ok := f.values[id]
	if !ok {
		return nil, errors.New("ResourceNotFoundException: Secrets Manager can't find the specified secret")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

func TestAuthHeader(t *testing.T) {
	secrets := &fakeSecrets{values: map[string]string{
		"tsa-auth":  "Authorization: Bearer s3cr3t\n",
		"no-colon":  "Bearer s3cr3t",
		"two-lines": "Authorization: Bearer s3cr3t\r\nX-Other: y",
		"no-value":  "Authorization:",
	}}
	tests := []struct {
		name string
		c    TSA
		want string
		err  string
	}{
		{"configured header", TSA{AuthHeader: "X-Api-Key: k"}, "X-Api-Key: k", ""},
		{"none", TSA{}, "", ""},
		{"from the secret", TSA{AuthSecret: "tsa-auth"}, "Authorization: Bearer s3cr3t", ""},
		{"secret missing", TSA{AuthSecret: "gone"}, "", "VAULT_TSA_AUTH_SECRET gone: ResourceNotFoundException"},
		{"not a header", TSA{AuthSecret: "no-colon"}, "", "not one header"},
		{"two headers", TSA{AuthSecret: "two-lines"}, "", "not one header"},
		{"no value", TSA{AuthSecret: "no-value"}, "", "not one header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := authHeader(context.Background(), tt.c, secrets)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("got error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("got error %v, want one saying %q", err, tt.err)
			case err != nil && strings.Contains(err.Error(), "s3cr3t"):
				t.Errorf("the error repeats the credential: %v", err)
			case got != tt.want:
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if len(secrets.asked) != 5 {
		t.Errorf("Secrets Manager was asked %d times, want once per case that names a secret (5)", len(secrets.asked))
	}
}
