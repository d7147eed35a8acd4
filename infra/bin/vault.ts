#!/usr/bin/env node
// The CDK app: one EvidenceVault stack, checked against the cdk-nag
// AwsSolutions rules at synth time: an unacknowledged finding fails
// `cdk synth`, and every acknowledgement in lib/ carries its reason.
import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { VaultStack } from '../lib/vault-stack';

const app = new App();
new VaultStack(app, app.node.tryGetContext('stackName') ?? 'EvidenceVault', {
  buildDir: app.node.tryGetContext('buildDir'),
  functionsDir: app.node.tryGetContext('functionsDir'),
  cognito: app.node.tryGetContext('cognito') === 'true',
  cognitoDomainPrefix: app.node.tryGetContext('cognitoDomainPrefix'),
  defaultRetentionDays: Number(app.node.tryGetContext('defaultRetentionDays') ?? 3653),
  signingKeyGeneration: Number(app.node.tryGetContext('signingKeyGeneration') ?? 1),
  previousSigningKeyArn: app.node.tryGetContext('previousSigningKeyArn'),
  corsOrigins: String(app.node.tryGetContext('corsOrigins') ?? '').split(',').map((o) => o.trim()).filter(Boolean),
  timestamping: app.node.tryGetContext('tsaUrl') ? {
    url: app.node.tryGetContext('tsaUrl'),
    rootsPem: readFileSync(app.node.tryGetContext('tsaRootsFile'), 'utf8'),
    policy: app.node.tryGetContext('tsaPolicy'),
    qualified: app.node.tryGetContext('tsaQualified') === 'true',
    authSecretArn: app.node.tryGetContext('tsaAuthSecretArn'),
  } : undefined,
  witnesses: String(app.node.tryGetContext('witnesses') ?? '').split(';').map((w) => w.trim()).filter(Boolean),
  witnessQuorum: app.node.tryGetContext('witnessQuorum') ? Number(app.node.tryGetContext('witnessQuorum')) : undefined,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
