// Offline checks of the CDK app (make test): assertions on the template,
// the cdk-nag AwsSolutions pack, and that every function is deployed.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { VaultStack, VaultStackProps } from '../lib/vault-stack';

const root = path.resolve(__dirname, '..', '..', '..');
const props: VaultStackProps = { buildDir: path.join(root, 'build'), functionsDir: path.join(root, 'functions') };

function synth(extra: Partial<VaultStackProps> = {}): { stack: VaultStack; template: Template } {
  const app = new App();
  const stack = new VaultStack(app, 'EvidenceVault', { ...props, ...extra });
  return { stack, template: Template.fromStack(stack) };
}

const { stack, template } = synth();
const resources = (type: string) => template.findResources(type);
const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

/** Every IAM statement of the policy attached to a function's role. */
function statementsOf(fn: string): { Action: string | string[]; Resource: unknown }[] {
  const policies = resources('AWS::IAM::Policy');
  const id = Object.keys(policies).find((k) => k.startsWith(fn[0].toUpperCase() + fn.slice(1) + 'Policy'));
  assert.ok(id, `no policy for ${fn}`);
  return policies[id].Properties.PolicyDocument.Statement;
}
const actions = (sts: { Action: string | string[] }[]) => sts.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

test('the evidence bucket is versioned, locked in compliance mode, KMS-encrypted, private, TLS-only and logged', () => {
  template.hasResourceProperties('AWS::S3::Bucket', {
    ObjectLockEnabled: true,
    ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3653 } } },
    VersioningConfiguration: { Status: 'Enabled' },
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() }, BucketKeyEnabled: true }] },
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'evidence-bucket/' },
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' })]) },
  });
  template.hasResourceProperties('AWS::S3::BucketPolicy', {
    Bucket: { Ref: logicalId(stack.bucket) },
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
  });
  const kept = Object.values(resources('AWS::S3::Bucket')).every((b) => b.DeletionPolicy === 'Retain');
  assert.ok(kept, 'every bucket is retained when the stack is deleted');
});

test('transient state lives in a scratch bucket without versions or Object Lock, whose sequencer and transient objects expire', () => {
  const scratch = template.toJSON().Resources[logicalId(stack.scratch)];
  assert.equal(scratch.Properties.ObjectLockEnabled, undefined);
  assert.equal(scratch.Properties.VersioningConfiguration, undefined);
  assert.deepEqual(scratch.Properties.LifecycleConfiguration.Rules.map((r: { Prefix: string; ExpirationInDays: number }) => [r.Prefix, r.ExpirationInDays]),
    [['sequencer/', 1], ['transient/', 30]]);
  assert.equal(scratch.DeletionPolicy, 'Retain');
  for (const name of Object.keys(stack.functions)) {
    const fn = template.toJSON().Resources[logicalId(stack.functions[name])];
    assert.deepEqual(fn.Properties.Environment.Variables.VAULT_SCRATCH_BUCKET, { Ref: logicalId(stack.scratch) }, `${name} names the scratch bucket`);
    const st = statementsOf(name);
    const onScratch = st.filter((s: { Resource: unknown }) => JSON.stringify(s.Resource).includes(logicalId(stack.scratch)));
    assert.deepEqual(actions(onScratch).sort(), ['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject'], `${name} on the scratch bucket`);
    // Deleting is for the scratch bucket only.
    const deletes = st.filter((s: { Action: string | string[] }) => actions([s]).some((a) => a.startsWith('s3:Delete')));
    assert.ok(deletes.every((s: { Resource: unknown }) => JSON.stringify(s.Resource).includes(logicalId(stack.scratch))), `${name} deletes only in the scratch bucket`);
  }
});

test('retention shorter than 10 years is refused', () => {
  assert.throws(() => synth({ defaultRetentionDays: 365 }), /under 10 years/);
});

test('receipts are signed by an asymmetric P-256 KMS key kept on deletion', () => {
  template.hasResource('AWS::KMS::Key', { Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }, DeletionPolicy: 'Retain' });
  template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, KeySpec: Match.absent() });
});

test('every folder of functions/ is a function, built for provided.al2023 on arm64', () => {
  const folders = fs.readdirSync(props.functionsDir!).filter((f) => fs.statSync(path.join(props.functionsDir!, f)).isDirectory()).sort();
  assert.deepEqual(Object.keys(stack.functions).sort(), folders);
  for (const name of folders) {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      Runtime: 'provided.al2023', Architectures: ['arm64'], Handler: 'bootstrap',
      Role: { 'Fn::GetAtt': [logicalId(stack.functions[name].role as never), 'Arn'] },
      Environment: { Variables: { VAULT_BUCKET: { Ref: logicalId(stack.bucket) }, VAULT_SIGNING_KMS_KEY: { 'Fn::GetAtt': [logicalId(stack.signingKey), 'Arn'] }, VAULT_LOCK_MODE: 'COMPLIANCE' } },
    });
  }
});

test('a folder of functions/ without a function fails the synth', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'functions-'));
  for (const f of ['api', 'seal', 'schedule', 'export']) fs.mkdirSync(path.join(dir, f));
  assert.throws(() => synth({ functionsDir: dir }), /functions\/export has no function in the stack/);
});

test('the seal function is triggered by ObjectCreated under evidence/ only', () => {
  template.hasResourceProperties('Custom::S3BucketNotifications', {
    BucketName: { Ref: logicalId(stack.bucket) },
    NotificationConfiguration: {
      LambdaFunctionConfigurations: [{
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'evidence/' }] } },
        LambdaFunctionArn: { 'Fn::GetAtt': [logicalId(stack.functions.seal), 'Arn'] },
      }],
    },
  });
});

test('the API checks JWTs from the configured issuer and audience, except GET /v1/keys', () => {
  template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
    AuthorizerType: 'JWT',
    JwtConfiguration: { Issuer: { Ref: 'JwtIssuer' }, Audience: [{ Ref: 'JwtAudience' }] },
  });
  template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'ANY /{proxy+}', AuthorizationType: 'JWT' });
  template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /v1/keys', AuthorizationType: 'NONE' });
  // Public as in internal/httpapi, and the portal's static files.
  for (const key of ['GET /v1/auth/config', 'GET /v1/sections', 'GET /v1/openapi.yaml', 'GET /portal', 'GET /portal/{proxy+}']) {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key, AuthorizationType: 'NONE' });
  }
  template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
    StageName: '$default', AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    DefaultRouteSettings: { ThrottlingRateLimit: { Ref: 'ApiRateLimit' }, ThrottlingBurstLimit: { Ref: 'ApiBurstLimit' } },
  });
  // The function verifies the same issuer's tokens itself.
  template.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('HTTP API'),
    Environment: { Variables: Match.objectLike({ VAULT_OIDC_ISSUER: { Ref: 'JwtIssuer' }, VAULT_OIDC_CLIENT_ID: { Ref: 'JwtAudience' }, VAULT_OIDC_TENANT_CLAIM: { Ref: 'TenantClaim' } }) },
  });
});

test('with Cognito, sign-in issues tokens the vault accepts, and no user can change their tenant or role', () => {
  const withCognito = synth({ cognito: true, cognitoDomainPrefix: 'evidence-vault-test', corsOrigins: ['https://portal.example.com'] }).template;
  withCognito.resourceCountIs('AWS::Cognito::UserPool', 1);
  withCognito.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON', AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } });
  assert.equal(Object.keys(withCognito.findParameters('JwtIssuer')).length, 0);
  // The tenant is an immutable attribute; there is no role attribute:
  // roles are groups, which only administrators change.
  const pool = Object.values(withCognito.findResources('AWS::Cognito::UserPool'))[0];
  const schema = pool.Properties.Schema as { Name: string; Mutable: boolean }[];
  assert.deepEqual(schema.map((a) => [a.Name, a.Mutable]), [['tenant', false]]);
  const groups = Object.values(withCognito.findResources('AWS::Cognito::UserPoolGroup')).map((g) => g.Properties.GroupName).sort();
  assert.deepEqual(groups, ['admin', 'auditor', 'uploader']);
  // The app client: the authorization code flow (PKCE is the public
  // client's), evault's loopback callback and the portal's, and users may
  // write their locale only: not their name, which sign-offs print.
  withCognito.hasResourceProperties('AWS::Cognito::UserPoolClient', {
    GenerateSecret: false,
    AllowedOAuthFlows: ['code'],
    AllowedOAuthFlowsUserPoolClient: true,
    AllowedOAuthScopes: Match.arrayWith(['openid', 'email']),
    CallbackURLs: ['http://localhost:8400/callback', 'https://portal.example.com/callback', Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['/portal/callback'])]) })],
    WriteAttributes: ['locale'],
  });
  withCognito.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'evidence-vault-test' });
  withCognito.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('HTTP API'),
    Environment: { Variables: Match.objectLike({ VAULT_OIDC_TENANT_CLAIM: 'custom:tenant', VAULT_OIDC_ROLE_CLAIM: 'cognito:groups', VAULT_OIDC_REDIRECT_URI: 'http://localhost:8400/callback' }) },
  });
});

test('the portal, served by the api function, may call the bucket from its origin', () => {
  // Presigned GETs and PUTs from the API's own origin, where the portal is.
  const bucket = Object.values(template.findResources('AWS::S3::Bucket')).find((b) => b.Properties.ObjectLockEnabled);
  const rules = bucket?.Properties.CorsConfiguration?.CorsRules as { AllowedOrigins: unknown[]; AllowedMethods: string[] }[];
  assert.ok(rules?.some((r) => JSON.stringify(r.AllowedOrigins).includes('ApiEndpoint') && r.AllowedMethods.includes('GET') && r.AllowedMethods.includes('PUT')), JSON.stringify(rules));
  // The page may connect to the bucket and the issuer's origin (its CSP,
  // internal/portal).
  const api = Object.values(template.findResources('AWS::Lambda::Function')).find((fn) => /HTTP API/.test(fn.Properties.Description));
  const connect = JSON.stringify(api?.Properties.Environment.Variables.VAULT_PORTAL_CONNECT);
  assert.ok(connect.includes('.s3.') && connect.includes('JwtIssuer'), connect);
});

test('each function may do what it does and nothing else', () => {
  const api = statementsOf('api');
  const seal = statementsOf('seal');
  const schedule = statementsOf('schedule');
  for (const [fn, all] of [['api', api], ['seal', seal], ['schedule', schedule]] as const) {
    // In the evidence bucket (the scratch bucket's transient state is
    // written over and deleted: the test above).
    const sts = all.filter((s) => !JSON.stringify(s.Resource).includes(logicalId(stack.scratch)));
    const acts = actions(sts);
    for (const forbidden of ['s3:*', '*', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention', 's3:PutBucketPolicy', 'kms:*']) {
      assert.ok(!acts.includes(forbidden), `${fn} may ${forbidden}`);
    }
    assert.ok(!acts.some((a) => a.startsWith('s3:Delete')), `${fn} may delete`);
    assert.ok(!actions(all).includes('s3:DeleteObjectVersion'), `${fn} may delete versions`);
    for (const st of sts) {
      assert.notEqual(st.Resource, '*', `${fn}: ${JSON.stringify(st.Action)} on every resource`);
    }
    const sign = sts.find((s) => actions([s]).includes('kms:Sign'));
    assert.deepEqual(sign?.Resource, { 'Fn::GetAtt': [logicalId(stack.signingKey), 'Arn'] }, `${fn} signs only with the signing key`);
  }
  // Only the API opens, lists and aborts multipart uploads and signs uploads of evidence.
  assert.ok(actions(api).includes('s3:AbortMultipartUpload'));
  assert.ok(!actions(seal).includes('s3:AbortMultipartUpload'));
  const puts = (sts: typeof api) => JSON.stringify(sts.filter((s) => actions([s]).includes('s3:PutObject')).map((s) => s.Resource));
  assert.match(puts(api), /evidence\/\*/);
  assert.doesNotMatch(puts(seal), /evidence\/\*/);
  // Legal holds: on evidence and its records only; sealing and the
  // schedule (new versions under a hold, holds set part-way) may only put
  // them on; the API (an admin's release) may lift them.
  const holdsOf = (sts: typeof api) => sts.filter((s) => actions([s]).includes('s3:PutObjectLegalHold'));
  for (const [fn, sts] of [['api', api], ['seal', seal], ['schedule', schedule]] as const) {
    const held = JSON.stringify(holdsOf(sts).map((s) => s.Resource));
    assert.match(held, /evidence\/\*/, fn);
    assert.match(held, /vault\/\*/, fn);
    assert.doesNotMatch(held, /ledger|keys/, fn);
    const onOnly = holdsOf(sts).every((s) => JSON.stringify((s as { Condition?: unknown }).Condition) === JSON.stringify({ StringEquals: { 's3:object-lock-legal-hold': 'ON' } }));
    assert.equal(onOnly, fn !== 'api', `${fn}: may lift legal holds: ${!onOnly}`);
  }
  assert.ok(actions(schedule).includes('s3:PutObjectRetention'));
  // The index of tenants: the API writes a tenant's entry with its first
  // dossier, the schedule extends its lock; without it the schedule
  // finds no tenant to extend.
  const on = (sts: typeof api, action: string) => JSON.stringify(sts.filter((s) => actions([s]).includes(action)).map((s) => s.Resource));
  assert.match(on(api, 's3:PutObject'), /tenants\/\*/);
  assert.match(on(schedule, 's3:PutObjectRetention'), /tenants\/\*/);
});

test('the schedule function runs hourly on EventBridge', () => {
  template.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'rate(1 hour)',
    Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack.functions.schedule), 'Arn'] } })]),
  });
});

test('a rotation: a new signing key, and the old one configured and usable as the previous', () => {
  const previous = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const { stack: rotated, template: t } = synth({ signingKeyGeneration: 2, previousSigningKeyArn: previous });
  assert.match(rotated.getLogicalId(rotated.signingKey.node.defaultChild as never), /^SigningKey2/);
  t.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/evidence-vault/receipts-2' });
  const vaultFunctions = (tt: Template) => Object.values(tt.findResources('AWS::Lambda::Function')).filter((fn) => fn.Properties.Environment?.Variables?.VAULT_BUCKET);
  assert.equal(vaultFunctions(t).length, Object.keys(rotated.functions).length);
  for (const fn of vaultFunctions(t)) {
    assert.equal(fn.Properties.Environment.Variables.VAULT_PREVIOUS_SIGNING_KMS_KEY, previous);
  }
  const policies = Object.values(t.findResources('AWS::IAM::Policy'));
  const signs = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((st: { Action: string[] }) => [st.Action].flat().includes('kms:Sign'));
  assert.ok(signs.length >= 2 && signs.every((st: { Resource: unknown[] }) => JSON.stringify(st.Resource).includes(previous)), 'every function may sign with the previous key');
  assert.throws(() => synth({ signingKeyGeneration: 0 }), /signingKeyGeneration/);
  // Without a rotation under way, no function names a previous key.
  for (const fn of vaultFunctions(template)) {
    assert.equal(fn.Properties.Environment.Variables.VAULT_PREVIOUS_SIGNING_KMS_KEY, undefined);
  }
});

test('CORS: by default only the portal, at the API origin, on the bucket; allowed origins on the API (preflight before the authorizer) and on the bucket', () => {
  const only = template.toJSON().Resources[logicalId(stack.bucket)].Properties.CorsConfiguration.CorsRules;
  assert.deepEqual(only.map((r: { AllowedOrigins: unknown[] }) => r.AllowedOrigins), [[{ 'Fn::GetAtt': [logicalId(stack.node.findChild('VaultApi') as never), 'ApiEndpoint'] }]]);
  template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.absent() });
  const origins = ['https://portal.example.com', 'http://localhost:5173'];
  const { stack: s, template: t } = synth({ corsOrigins: origins });
  const rule = t.toJSON().Resources[s.getLogicalId(s.bucket.node.defaultChild as never)].Properties.CorsConfiguration.CorsRules[0];
  assert.deepEqual(rule.AllowedOrigins, origins);
  assert.deepEqual([...rule.AllowedMethods].sort(), ['GET', 'HEAD', 'PUT']);
  assert.ok(rule.ExposedHeaders.includes('x-amz-version-id') && rule.ExposedHeaders.includes('ETag'));
  t.hasResourceProperties('AWS::ApiGatewayV2::Api', {
    CorsConfiguration: Match.objectLike({ AllowOrigins: origins, AllowMethods: ['GET', 'POST', 'PUT', 'DELETE'], AllowHeaders: Match.arrayWith(['Authorization', 'Idempotency-Key']), ExposeHeaders: Match.arrayWith(['ETag', 'Location']) }),
  });
  // Preflights carry no token: their route must not be behind the JWT authorizer.
  t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'OPTIONS /{proxy+}', AuthorizationType: 'NONE' });
  t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'ANY /{proxy+}', AuthorizationType: 'JWT' });
  assert.equal(Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter((r) => r.Properties.RouteKey === 'OPTIONS /{proxy+}').length, 0, 'no open OPTIONS route without CORS');
  const api = Object.values(t.findResources('AWS::Lambda::Function')).find((fn) => fn.Properties.Environment?.Variables?.VAULT_CORS_ORIGINS);
  assert.equal(api?.Properties.Environment.Variables.VAULT_CORS_ORIGINS, origins.join(','));
  assert.throws(() => synth({ corsOrigins: ['https://*.example.com'] }), /not an origin/);
  assert.throws(() => synth({ corsOrigins: ['https://portal.example.com/app'] }), /not an origin/);
});

test('logs are kept ten years and every function has error and throttle alarms', () => {
  for (const lg of Object.values(resources('AWS::Logs::LogGroup'))) {
    assert.equal(lg.Properties.RetentionInDays, 3653);
  }
  for (const name of Object.keys(stack.functions)) {
    for (const metric of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric, Namespace: 'AWS/Lambda', Threshold: 1,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.functions[name]) } }],
        AlarmActions: [{ Ref: Match.anyValue() }],
      });
    }
  }
});

test('cdk-nag AwsSolutions reports no unacknowledged finding, and would report one', () => {
  const app = new App();
  new VaultStack(app, 'EvidenceVault', props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws "Validation failed" on any unacknowledged finding

  const canary = new App();
  const s = new Stack(canary, 'Canary');
  new s3.Bucket(s, 'Open');
  Validations.of(canary).addPlugins(new AwsSolutionsChecks(canary));
  assert.throws(() => canary.synth(), /Validation failed/);
});

test('a timestamp authority and witnesses reach every function, and bad ones fail the synth', () => {
  const rootsPem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const witness = 'https://witness.example/ witness.example+0123abcd+BOcDmoj9Vjxx4DGhmCc0FQnAawwbUhJT8Qnd8Kf9m0qe';
  const { template: t } = synth({ timestamping: { url: 'https://tsa.example/tsr', rootsPem, policy: '1.2.3.4', qualified: true }, witnesses: [witness] });
  const fns = (Object.values(t.findResources('AWS::Lambda::Function')) as any[])
    .filter((fn) => fn.Properties.Environment?.Variables?.VAULT_BUCKET);
  assert.ok(fns.length >= 2);
  for (const fn of fns) {
    const env = fn.Properties.Environment.Variables;
    assert.equal(env.VAULT_TSA_URL, 'https://tsa.example/tsr');
    assert.equal(env.VAULT_TSA_ROOTS, rootsPem);
    assert.equal(env.VAULT_TSA_POLICY, '1.2.3.4');
    assert.equal(env.VAULT_TSA_QUALIFIED, 'true');
    assert.equal(env.VAULT_WITNESSES, witness);
  }
  assert.throws(() => synth({ timestamping: { url: 'http://tsa.example', rootsPem } }), /timestamping/);
  assert.throws(() => synth({ timestamping: { url: 'https://tsa.example', rootsPem, authSecretArn: 'tsa-auth' } }), /authSecretArn/);
  // An authority's credential: a secret's ARN in the functions'
  // configuration, never its value, and leave to read only that secret.
  const secretArn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:evidence-vault/tsa-auth-AbCdEf';
  const { template: ta } = synth({ timestamping: { url: 'https://tsa.example/tsr', rootsPem, authSecretArn: secretArn } });
  const withSecret = (Object.values(ta.findResources('AWS::Lambda::Function')) as any[])
    .filter((fn) => fn.Properties.Environment?.Variables?.VAULT_BUCKET);
  assert.ok(withSecret.length >= 2);
  for (const fn of withSecret) {
    assert.equal(fn.Properties.Environment.Variables.VAULT_TSA_AUTH_SECRET, secretArn);
    assert.equal(fn.Properties.Environment.Variables.VAULT_TSA_AUTH_HEADER, undefined);
  }
  const reads = (Object.values(ta.findResources('AWS::IAM::Policy')) as any[])
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'));
  assert.equal(reads.length, withSecret.length);
  for (const st of reads) assert.deepEqual([st.Resource].flat(), [secretArn]);
  const { template: none } = synth({});
  assert.ok(!JSON.stringify(none.toJSON()).includes('secretsmanager:'), 'without a secret, no function may read secrets');
  assert.throws(() => synth({ witnesses: ['https://w.example/'] }), /witnesses/);
  const other = 'https://witness.other.example/ witness.other.example+4567cdef+BOcDmoj9Vjxx4DGhmCc0FQnAawwbUhJT8Qnd8Kf9m0qe';
  const { template: tq } = synth({ witnesses: [witness, other], witnessQuorum: 1 });
  const withQuorum = (Object.values(tq.findResources('AWS::Lambda::Function')) as any[])
    .filter((fn) => fn.Properties.Environment?.Variables?.VAULT_BUCKET);
  assert.ok(withQuorum.length >= 2);
  for (const fn of withQuorum) assert.equal(fn.Properties.Environment.Variables.VAULT_WITNESS_QUORUM, '1');
  for (const q of [0, 3, 1.5]) assert.throws(() => synth({ witnesses: [witness, other], witnessQuorum: q }), /witnessQuorum/);
  assert.throws(() => synth({ witnessQuorum: 1 }), /witnessQuorum/);
});
