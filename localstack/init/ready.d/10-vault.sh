#!/bin/bash
# LocalStack init hook (ready stage): checks that the services the vault's
# stack needs answer, then marks the container ready for the deploy step.
set -euo pipefail
awslocal s3api list-buckets >/dev/null
awslocal kms list-keys >/dev/null
awslocal lambda list-functions >/dev/null
# Object Lock needs a versioned bucket created with lock enabled: probe it.
awslocal s3api create-bucket --bucket vault-lock-probe --object-lock-enabled-for-bucket >/dev/null 2>&1 || true
awslocal s3api get-object-lock-configuration --bucket vault-lock-probe >/dev/null
echo "vault: LocalStack ready for cdklocal deploy"
touch /tmp/vault-ready
