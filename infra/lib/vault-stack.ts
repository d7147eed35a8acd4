// The Evidence Vault stack: the evidence bucket (versioned, Object Lock in
// compliance mode, SSE-KMS, TLS only, access-logged), the KMS key that
// signs receipts and log checkpoints, the HTTP API behind a JWT authorizer,
// one Lambda function per folder of functions/ (built by `make build` for
// provided.al2023 on arm64) with its own least-privilege role, the S3
// trigger of the seal function, log retention and alarms.
import * as fs from 'fs';
import * as path from 'path';
import { CfnOutput, CfnParameter, Duration, Fn, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface VaultStackProps extends StackProps {
  /** Where `make build` left build/<function>/bootstrap. */
  readonly buildDir?: string;
  /** The Go functions; every folder must have a function here. */
  readonly functionsDir?: string;
  /** Create a Cognito user pool as the token issuer instead of taking one. */
  readonly cognito?: boolean;
  /**
   * With cognito: the prefix of the hosted sign-in domain
   * (https://PREFIX.auth.REGION.amazoncognito.com), unique in the region.
   */
  readonly cognitoDomainPrefix?: string;
  /** Default COMPLIANCE retention of every object version, days (3653). */
  readonly defaultRetentionDays?: number;
  /**
   * Which signing key the stack makes (1): raising it creates a new KMS
   * key to rotate to, while the old one is kept (docs/deploy.md).
   */
  readonly signingKeyGeneration?: number;
  /**
   * The ARN of the key the signing key replaces, while a rotation is under
   * way: the functions may sign with it too, and sign each tenant log's
   * rotation entry with both keys.
   */
  readonly previousSigningKeyArn?: string;
  /**
   * Origins (https://portal.example.com) whose browser scripts may call the
   * API and the bucket's presigned URLs (CORS). None by default.
   */
  readonly corsOrigins?: string[];
  /**
   * The Time-Stamping Authority that timestamps every receipt (RFC 3161;
   * docs/receipt.md): its URL, its trust anchors (PEM), the policy OID
   * required, whether only qualified timestamps count, and, for an
   * authority that wants authentication, the ARN of a Secrets Manager
   * secret whose value is the header to send ("Authorization: Bearer …"),
   * read by the functions at start, so that the credential is in no
   * function's configuration. None by default.
   */
  readonly timestamping?: { url: string; rootsPem: string; policy?: string; qualified?: boolean; authSecretArn?: string };
  /** Witnesses that cosign every checkpoint, each "URL VKEY" (docs/ledger.md). */
  readonly witnesses?: string[];
  /**
   * How many of the witnesses must cosign a checkpoint for it to be
   * witnessed, and published as the verifiers' quorum; all by default.
   */
  readonly witnessQuorum?: number;
}

/** Request headers browser clients send the API (internal/httpapi/cors.go). */
const corsRequestHeaders = ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match', 'Vault-Tenant', 'X-Request-Id'];
/** Response headers their scripts may read. */
const corsExposedHeaders = ['ETag', 'Location', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed', 'Allow', 'X-Log-Origin', 'X-Log-Size'];

/**
 * Prefixes of the bucket the vault writes (internal/vault/layout.go; the
 * index of tenants the schedule runs over, internal/vault/schedule.go).
 */
const prefixes = ['evidence', 'vault', 'ledger', 'keys', 'tenants'] as const;

/**
 * Prefixes of the scratch bucket (internal/ledger/sequence.go,
 * internal/vault/transient.go), with how many days each lives after its
 * last write: the logs' sequencer leases and pending entries, their head
 * hints, and transient state (hash states, idempotency attempts).
 */
const scratchPrefixes = { sequencer: 1, ledger: undefined, transient: 30 } as const;

export class VaultStack extends Stack {
  readonly bucket: s3.Bucket;
  /** Transient state: no versioning, no Object Lock, expiring. */
  readonly scratch: s3.Bucket;
  readonly signingKey: kms.Key;
  readonly previousSigningKeyArn?: string;
  readonly functions: Record<string, lambda.Function> = {};
  readonly corsOrigins: string[];
  /** The timestamp authority's and the witnesses' settings, for every function. */
  private readonly independent: Record<string, string>;
  private readonly tsaAuthSecretArn?: string;

  constructor(scope: Construct, id: string, props: VaultStackProps = {}) {
    super(scope, id, props);
    const buildDir = path.resolve(props.buildDir ?? path.join(__dirname, '..', '..', '..', 'build'));

    // Default Object Lock retention of every object version: at least 10
    // years; the vault itself locks each sealed version for its dossier's
    // period (15 years for implantables).
    const corsOrigins = props.corsOrigins ?? [];
    this.corsOrigins = corsOrigins;
    const ts = props.timestamping;
    if (ts && (!/^https:\/\//.test(ts.url) || !ts.rootsPem.includes('BEGIN CERTIFICATE'))) {
      throw new Error('timestamping: want the authority\'s https URL and its PEM trust anchors');
    }
    if (ts?.authSecretArn && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:\S+$/.test(ts.authSecretArn)) {
      throw new Error(`timestamping.authSecretArn: ${ts.authSecretArn} is not a Secrets Manager secret's ARN`);
    }
    this.tsaAuthSecretArn = ts?.authSecretArn;
    for (const w of props.witnesses ?? []) {
      if (!/^https:\/\/\S+ \S+\+[0-9a-f]{8}\+\S+$/.test(w)) throw new Error(`witnesses: ${w} is not "https://URL VKEY"`);
    }
    const quorum = props.witnessQuorum;
    if (quorum !== undefined && !(Number.isInteger(quorum) && quorum >= 1 && quorum <= (props.witnesses?.length ?? 0))) {
      throw new Error(`witnessQuorum: ${quorum} is not a number of the ${props.witnesses?.length ?? 0} witnesses, 1 or more`);
    }
    this.independent = {
      ...(ts ? { VAULT_TSA_URL: ts.url, VAULT_TSA_ROOTS: ts.rootsPem } : {}),
      ...(ts?.policy ? { VAULT_TSA_POLICY: ts.policy } : {}),
      ...(ts?.qualified ? { VAULT_TSA_QUALIFIED: 'true' } : {}),
      ...(ts?.authSecretArn ? { VAULT_TSA_AUTH_SECRET: ts.authSecretArn } : {}),
      ...(props.witnesses?.length ? { VAULT_WITNESSES: props.witnesses.join(';') } : {}),
      ...(quorum !== undefined ? { VAULT_WITNESS_QUORUM: String(quorum) } : {}),
    };
    for (const o of corsOrigins) {
      if (!/^https?:\/\/[^/?#*]+$/.test(o)) {
        throw new Error(`corsOrigins: ${o} is not an origin (scheme://host[:port], no path, no wildcard)`);
      }
    }
    const retentionDays = props.defaultRetentionDays ?? 3653;
    if (retentionDays < 3653) {
      throw new Error(`defaultRetentionDays ${retentionDays} is under 10 years (3653 days)`);
    }
    const throttleRate = new CfnParameter(this, 'ApiRateLimit', { type: 'Number', default: 200, description: 'API requests per second, steady state' });
    const throttleBurst = new CfnParameter(this, 'ApiBurstLimit', { type: 'Number', default: 400, description: 'API request burst' });

    // Keys. The data key encrypts objects (S3 bucket keys keep KMS calls
    // few); the signing key is asymmetric and never leaves KMS.
    const dataKey = new kms.Key(this, 'DataKey', {
      description: 'Evidence Vault: encrypts evidence, records and alarms',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    dataKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const generation = props.signingKeyGeneration ?? 1;
    if (!Number.isInteger(generation) || generation < 1) {
      throw new Error(`signingKeyGeneration ${generation} is not a whole number from 1`);
    }
    const suffix = generation === 1 ? '' : `${generation}`;
    this.signingKey = new kms.Key(this, `SigningKey${suffix}`, {
      description: 'Evidence Vault: signs receipts and log checkpoints (ECDSA P-256, SHA-256)',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      alias: `evidence-vault/receipts${suffix ? '-' + suffix : ''}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.previousSigningKeyArn = props.previousSigningKeyArn;

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // Server access logging delivers only to SSE-S3 buckets without
      // default Object Lock retention.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(3653) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Evidence', {
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(retentionDays)),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: dataKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'evidence-bucket/',
      lifecycleRules: [{ id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      // Presigned PUTs and GETs from browsers of the allowed origins: the
      // checksum and version headers are what a client verifies.
      cors: corsOrigins.length === 0 ? undefined : [{
        allowedOrigins: corsOrigins,
        allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
        allowedHeaders: ['*'],
        exposedHeaders: ['ETag', 'x-amz-version-id', 'x-amz-checksum-sha256', 'Content-Length'],
        maxAge: 7200,
      }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // What may be lost and is written over (docs/ledger.md, scaling
    // out): without versions or Object Lock, so that it leaves nothing
    // locked behind; nothing the evidence depends on lives here, and
    // readers trust nothing of it.
    this.scratch = new s3.Bucket(this, 'Scratch', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: dataKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'scratch-bucket/',
      lifecycleRules: Object.entries(scratchPrefixes).filter(([, days]) => days !== undefined)
        .map(([prefix, days]) => ({ id: `${prefix}-expires`, prefix: `${prefix}/`, expiration: Duration.days(days!) })),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const alarms = new sns.Topic(this, 'Alarms', { displayName: 'Evidence Vault alarms', masterKey: dataKey, enforceSSL: true });

    // Functions: one per folder of functions/, each with its own role.
    const api = this.goFunction('api', buildDir, {
      description: 'Evidence Vault HTTP API (functions/api)', memorySize: 512, timeout: Duration.seconds(29),
      writes: ['evidence', 'vault', 'ledger', 'keys', 'tenants'], multipart: true, legalHolds: 'set-and-lift',
    }, alarms);
    const seal = this.goFunction('seal', buildDir, {
      description: 'Seals uploads on S3 ObjectCreated (functions/seal)', memorySize: 512, timeout: Duration.minutes(5),
      writes: ['vault', 'ledger', 'keys'], multipart: false, legalHolds: 'set',
    }, alarms);
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(seal), { prefix: 'evidence/' });
    // The schedule: lock extensions ahead of the market (MDR Art. 10(8))
    // and timestamps the authority could not give at sealing, hourly.
    const schedule = this.goFunction('schedule', buildDir, {
      description: 'Extends retention ahead of the market and adds pending timestamps (functions/schedule)', memorySize: 512, timeout: Duration.minutes(15),
      writes: ['vault', 'ledger', 'keys', 'tenants'], multipart: false, legalHolds: 'set',
    }, alarms);
    new events.Rule(this, 'ScheduleRule', {
      description: 'Runs the vault schedule (functions/schedule)',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new eventsTargets.LambdaFunction(schedule, { retryAttempts: 2 })],
    });

    // The HTTP API: every route behind the JWT authorizer but GET /v1/keys,
    // which verifiers need without an account.
    let authorizer: HttpJwtAuthorizer;
    // What the api function verifies tokens with (internal/oidcauth,
    // docs/identity.md): the same issuer and client as the authorizer.
    let oidc: Record<string, string>;
    let portalSignIn: { client: cognito.UserPoolClient; origins: string[]; cliCallback: string } | undefined;
    // The provider's origins the portal calls (discovery, token endpoint).
    let signInOrigins: string[] = [];
    if (props.cognito) {
      // Roles are groups, which only administrators change; the tenant is
      // set when an administrator creates the user and never after (the
      // app client cannot write it). Auditors of notified bodies are users
      // of the auditor group without a tenant: grants give them access.
      const pool = new cognito.UserPool(this, 'Users', {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        mfa: cognito.Mfa.REQUIRED,
        mfaSecondFactor: { sms: false, otp: true },
        passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
        featurePlan: cognito.FeaturePlan.PLUS,
        standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        customAttributes: { tenant: new cognito.StringAttribute({ mutable: false, minLen: 1, maxLen: 63 }) },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const role of ['uploader', 'admin', 'auditor']) {
        new cognito.CfnUserPoolGroup(this, `Group${role[0].toUpperCase()}${role.slice(1)}`, {
          userPoolId: pool.userPoolId, groupName: role, description: `Evidence Vault ${role}s`,
        });
      }
      const prefix = props.cognitoDomainPrefix ?? new CfnParameter(this, 'SignInDomainPrefix', {
        type: 'String', description: 'Prefix of the hosted sign-in domain (PREFIX.auth.REGION.amazoncognito.com)',
        allowedPattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
      }).valueAsString;
      const domain = pool.addDomain('SignIn', { cognitoDomain: { domainPrefix: prefix } });
      const cliCallback = 'http://localhost:8400/callback';
      const client = pool.addClient('Cli', {
        generateSecret: false,
        authFlows: { userSrp: true },
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
          callbackUrls: [cliCallback, ...corsOrigins.map((o) => `${o}/callback`)],
          logoutUrls: [...corsOrigins],
        },
        readAttributes: new cognito.ClientAttributes()
          .withStandardAttributes({ email: true, emailVerified: true, fullname: true })
          .withCustomAttributes('tenant'),
        // The name is the printed name of sign-offs (21 CFR 11.50):
        // administrators set it, users cannot. Cognito lets a client that
        // names no write attributes write them all, so one harmless one
        // is named.
        writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ locale: true }),
        idTokenValidity: Duration.hours(1),
        accessTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.days(30),
        preventUserExistenceErrors: true,
      });
      const issuer = `https://cognito-idp.${this.region}.amazonaws.com/${pool.userPoolId}`;
      authorizer = new HttpJwtAuthorizer('Jwt', issuer, { jwtAudience: [client.userPoolClientId] });
      oidc = {
        VAULT_OIDC_ISSUER: issuer,
        VAULT_OIDC_CLIENT_ID: client.userPoolClientId,
        VAULT_OIDC_TENANT_CLAIM: 'custom:tenant',
        VAULT_OIDC_ROLE_CLAIM: 'cognito:groups',
        VAULT_OIDC_SCOPES: 'openid email profile',
        VAULT_OIDC_REDIRECT_URI: cliCallback,
      };
      // The page reads the issuer's discovery document and calls the
      // hosted domain's token endpoint itself.
      portalSignIn = { client, origins: [`https://cognito-idp.${this.region}.amazonaws.com`, domain.baseUrl()], cliCallback };
      signInOrigins = portalSignIn.origins;
      new CfnOutput(this, 'UserPoolId', { value: pool.userPoolId });
      new CfnOutput(this, 'SignInUrl', { value: domain.baseUrl(), description: 'Cognito hosted sign-in (evault login opens it)' });
    } else {
      const issuer = new CfnParameter(this, 'JwtIssuer', { type: 'String', description: 'Issuer (iss) of the tokens callers present, e.g. https://login.example.com/' });
      // https://host/… → https://host: the origin of the issuer, whose
      // discovery document and token endpoint the portal calls.
      signInOrigins = [Fn.join('', ['https://', Fn.select(2, Fn.split('/', issuer.valueAsString))])];
      const audience = new CfnParameter(this, 'JwtAudience', { type: 'String', description: 'The vault\'s client id at the provider: the aud of its ID tokens' });
      const tenantClaim = new CfnParameter(this, 'TenantClaim', { type: 'String', default: 'tenant', description: 'Claim naming a member\'s tenant' });
      const roleClaim = new CfnParameter(this, 'RoleClaim', { type: 'String', default: 'role', description: 'Claim naming the role, or listing groups of which one is a role' });
      const redirect = new CfnParameter(this, 'CliRedirectUri', { type: 'String', default: '', description: 'evault login\'s loopback callback, if the provider takes registered ones only' });
      authorizer = new HttpJwtAuthorizer('Jwt', issuer.valueAsString, { jwtAudience: [audience.valueAsString] });
      oidc = {
        VAULT_OIDC_ISSUER: issuer.valueAsString,
        VAULT_OIDC_CLIENT_ID: audience.valueAsString,
        VAULT_OIDC_TENANT_CLAIM: tenantClaim.valueAsString,
        VAULT_OIDC_ROLE_CLAIM: roleClaim.valueAsString,
        VAULT_OIDC_REDIRECT_URI: redirect.valueAsString,
      };
    }
    for (const [k, v] of Object.entries(oidc)) {
      api.addEnvironment(k, v);
    }
    const httpApi = new apigw.HttpApi(this, 'VaultApi', {
      description: 'Evidence Vault API (docs/api.md)',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
      // API Gateway answers preflights itself (before the authorizer, which
      // would refuse them) and sets the CORS headers of every answer.
      corsPreflight: corsOrigins.length === 0 ? undefined : {
        allowOrigins: corsOrigins,
        allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.PUT, apigw.CorsHttpMethod.DELETE],
        allowHeaders: corsRequestHeaders,
        exposeHeaders: corsExposedHeaders,
        maxAge: Duration.hours(2),
      },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', api, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    httpApi.addRoutes({ path: '/{proxy+}', methods: [apigw.HttpMethod.ANY], integration });
    if (corsOrigins.length > 0) {
      // ANY matches OPTIONS too, which would put preflights (that carry no
      // token) before the JWT authorizer: an OPTIONS route without it lets
      // API Gateway answer them with the CORS configuration above.
      for (const route of httpApi.addRoutes({ path: '/{proxy+}', methods: [apigw.HttpMethod.OPTIONS], integration, authorizer: new apigw.HttpNoneAuthorizer() })) {
        Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason: 'CORS preflights carry no credentials by design (Fetch standard); the route only answers them with the allowed origins.' });
      }
    }
    // Public routes (internal/httpapi marks the same ones public): the
    // keys, how to sign in, the sections table, the contract, and the web
    // portal's static files, which hold no data (every call the page
    // makes carries the user's token).
    const publicRoutes: [string, string][] = [
      ['/v1/keys', 'GET /v1/keys serves the public keys that verify receipts; auditors and notified bodies need them without an account.'],
      ['/v1/auth/config', 'GET /v1/auth/config says how to sign in; it is read before there is a token.'],
      ['/v1/sections', 'GET /v1/sections is the regulation\'s table of Annex sections, public reference data.'],
      ['/v1/openapi.yaml', 'GET /v1/openapi.yaml is the published API contract.'],
      ['/portal', 'The web portal\'s page is static; it signs its user in and sends their token with every call.'],
      ['/portal/{proxy+}', 'The web portal\'s static files (scripts, styles) hold no data.'],
    ];
    for (const [path, reason] of publicRoutes) {
      for (const route of httpApi.addRoutes({ path, methods: [apigw.HttpMethod.GET], integration, authorizer: new apigw.HttpNoneAuthorizer() })) {
        Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason });
      }
    }
    // The portal, served by the api function at /portal/, fetches the
    // presigned URLs of the bucket from the API's origin, and signs in
    // with the hosted domain (docs/portal.md).
    const apiOrigin = httpApi.apiEndpoint;
    this.bucket.addCorsRule({
      allowedOrigins: [apiOrigin],
      allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
      allowedHeaders: ['*'],
      exposedHeaders: ['ETag', 'x-amz-version-id', 'x-amz-checksum-sha256', 'Content-Length'],
      maxAge: 7200,
    });
    const connect = [`https://${this.bucket.bucketName}.s3.${this.region}.amazonaws.com`, ...signInOrigins];
    api.addEnvironment('VAULT_PORTAL_CONNECT', Fn.join(',', connect));
    if (portalSignIn) {
      (portalSignIn.client.node.defaultChild as cognito.CfnUserPoolClient).addPropertyOverride('CallbackURLs',
        [portalSignIn.cliCallback, ...corsOrigins.map((o) => `${o}/callback`), `${apiOrigin}/portal/callback`]);
      new CfnOutput(this, 'PortalUrl', { value: `${apiOrigin}/portal/`, description: 'The web portal: auditors and uploaders sign in here' });
    }
    const apiLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logs.RetentionDays.TEN_YEARS, removalPolicy: RemovalPolicy.RETAIN });
    const stage = httpApi.addStage('Stage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: throttleRate.valueAsNumber, burstLimit: throttleBurst.valueAsNumber },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(apiLogs),
        format: AccessLogFormat.custom(JSON.stringify({
          requestId: '$context.requestId', ip: '$context.identity.sourceIp', time: '$context.requestTime',
          method: '$context.httpMethod', path: '$context.path', status: '$context.status',
          sub: '$context.authorizer.claims.sub', latency: '$context.responseLatency',
        })),
      },
    });
    new cloudwatch.Alarm(this, 'Api5xx', {
      alarmDescription: 'The API answered 5xx: see the api function log by requestId',
      metric: httpApi.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 5, evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new cwActions.SnsAction(alarms));

    // The bucket notification's custom resource, made by the CDK.
    const notifications = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notifications) {
      Validations.of(notifications).acknowledge({ id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'The CDK-provided BucketNotificationsHandler, not a vault function, uses the basic execution role.' });
    }

    new CfnOutput(this, 'ApiUrl', { value: stage.url, description: 'VAULT_URL for evault (--api)' });
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'SigningKeyArn', { value: this.signingKey.keyArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topicArn, description: 'Subscribe to receive alarms' });

    // Every folder of functions/ must be deployed.
    const functionsDir = path.resolve(props.functionsDir ?? path.join(__dirname, '..', '..', '..', 'functions'));
    for (const name of fs.readdirSync(functionsDir)) {
      if (fs.statSync(path.join(functionsDir, name)).isDirectory() && !this.functions[name]) {
        throw new Error(`functions/${name} has no function in the stack: add it to infra/lib/vault-stack.ts`);
      }
    }
  }

  /** A Go function from build/<name>/bootstrap, its role, logs and alarms. */
  private goFunction(name: string, buildDir: string, opts: {
    description: string; memorySize: number; timeout: Duration;
    writes: readonly (typeof prefixes[number])[]; multipart: boolean;
    // legalHolds: may set legal holds on evidence and its records, and
    // lift them (only the API, for an admin's release).
    legalHolds: 'set' | 'set-and-lift';
  }, alarms: sns.ITopic): lambda.Function {
    const code = path.join(buildDir, name);
    if (!fs.existsSync(path.join(code, 'bootstrap'))) {
      throw new Error(`${code}/bootstrap is missing: run make build first`);
    }
    const id = name[0].toUpperCase() + name.slice(1);
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: logs.RetentionDays.TEN_YEARS, removalPolicy: RemovalPolicy.RETAIN });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Evidence Vault ${name} function: least privilege`,
    });
    logGroup.grantWrite(role);
    const b = this.bucket;
    const objects = (ps: readonly string[]) => ps.map((p) => b.arnForObjects(`${p}/*`));
    const statements = [
      // Read every record and evidence version, and its retention.
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectRetention', 's3:GetObjectVersionAttributes', 's3:GetObjectAttributes'], resources: objects(prefixes) }),
      new iam.PolicyStatement({ actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: [b.bucketArn] }),
      // Write new objects (conditional creates) under its own prefixes,
      // locked: a version is never deleted or shortened (no s3:Delete*,
      // no s3:BypassGovernanceRetention).
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:PutObjectRetention'], resources: objects(opts.writes) }),
    ];
    if (!opts.writes.includes('evidence')) {
      // Extend the lock of evidence it does not write, when sealing late.
      statements.push(new iam.PolicyStatement({ actions: ['s3:PutObjectRetention'], resources: objects(['evidence']) }));
    }
    statements.push(
      // HeadObject shows a version's legal hold only with this.
      new iam.PolicyStatement({ actions: ['s3:GetObjectLegalHold'], resources: objects(['evidence', 'vault']) }),
      new iam.PolicyStatement({
        actions: ['s3:PutObjectLegalHold'], resources: objects(['evidence', 'vault']),
        // Sealing and the schedule only ever put holds on.
        ...(opts.legalHolds === 'set' ? { conditions: { StringEquals: { 's3:object-lock-legal-hold': 'ON' } } } : {}),
      }),
    );
    if (opts.multipart) {
      statements.push(new iam.PolicyStatement({ actions: ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], resources: objects(['evidence']) }));
    }
    // The scratch bucket: read, write over and delete its transient state.
    const sc = this.scratch;
    statements.push(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: Object.keys(scratchPrefixes).map((p) => sc.arnForObjects(`${p}/*`)) }),
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [sc.bucketArn] }),
    );
    statements.push(
      new iam.PolicyStatement({
        actions: ['kms:Sign', 'kms:GetPublicKey'],
        resources: [this.signingKey.keyArn, ...(this.previousSigningKeyArn ? [this.previousSigningKeyArn] : [])],
      }),
      new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [b.encryptionKey!.keyArn] }),
    );
    if (this.tsaAuthSecretArn) {
      // The timestamp authority's credential, read once at start; a
      // secret under a key of its own needs kms:Decrypt on that key too.
      statements.push(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.tsaAuthSecretArn] }));
    }
    const policy = new iam.Policy(this, `${id}Policy`, { statements });
    role.attachInlinePolicy(policy);
    const bucketId = this.getLogicalId(b.node.defaultChild as s3.CfnBucket);
    for (const p of prefixes) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${p}/*]`,
        reason: `Object keys under ${p}/ are chosen at run time (tenant, dossier, document path); access is scoped to the vault's own prefixes of this one bucket.`,
      });
    }
    const scratchId = this.getLogicalId(sc.node.defaultChild as s3.CfnBucket);
    for (const p of Object.keys(scratchPrefixes)) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${scratchId}.Arn>/${p}/*]`,
        reason: `Keys under ${p}/ of the scratch bucket are per tenant and per process, chosen at run time; it holds only transient state that readers verify.`,
      });
    }

    const fn = new lambda.Function(this, id, {
      description: opts.description,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(code),
      memorySize: opts.memorySize,
      timeout: opts.timeout,
      role,
      logGroup,
      environment: {
        VAULT_BUCKET: b.bucketName,
        VAULT_SCRATCH_BUCKET: sc.bucketName,
        VAULT_SIGNING_KMS_KEY: this.signingKey.keyArn,
        ...(this.previousSigningKeyArn ? { VAULT_PREVIOUS_SIGNING_KMS_KEY: this.previousSigningKeyArn } : {}),
        VAULT_LOCK_MODE: 'COMPLIANCE',
        ...(this.corsOrigins.length ? { VAULT_CORS_ORIGINS: this.corsOrigins.join(',') } : {}),
        ...this.independent,
      },
    });
    fn.node.addDependency(policy);
    for (const [metric, what] of [[fn.metricErrors({ period: Duration.minutes(5) }), 'Errors'], [fn.metricThrottles({ period: Duration.minutes(5) }), 'Throttles']] as const) {
      new cloudwatch.Alarm(this, `${id}${what}`, {
        alarmDescription: `The ${name} function reported ${what.toLowerCase()}`,
        metric, threshold: 1, evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new cwActions.SnsAction(alarms));
    }
    this.functions[name] = fn;
    return fn;
  }
}
