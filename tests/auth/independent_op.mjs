// An independent OpenID Provider for the tests: the `oidc-provider` package
// (certified by the OpenID Foundation), not written here. Started by the
// fixture in tests/auth/test_independent_op.py as
//
//   node tests/auth/independent_op.mjs
//
// with OP_CLIENT (one client, JSON: client_id, client_secret, redirect_uri) and
// OP_ACCOUNTS (JSON: {accountId: {acr, claims, userinfo_only: [claim names]}})
// in the environment. It listens on a free 127.0.0.1 port, prints
// "listening <issuer>" on stdout, and serves until killed.
//
// Who logs in is chosen at the interaction, like a person at a real provider:
// GET /interaction/<uid>?account=<accountId> logs that account in with its
// `acr` (none if null); the consent that follows is granted at once. Claims in
// `userinfo_only` are left out of the ID token and given only by userinfo.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const client = JSON.parse(process.env.OP_CLIENT);
const accounts = JSON.parse(process.env.OP_ACCOUNTS);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'op-test-1' };

const SE_PNR = 'https://id.oidc.se/claim/personalIdentityNumber';
const SE_COORDINATION = 'https://id.oidc.se/claim/coordinationNumber';
const FI_HETU = 'urn:oid:1.2.246.21';
const acrValues = [...new Set(Object.values(accounts).map((a) => a.acr).filter(Boolean))];

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uris: [client.redirect_uri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [signingKey] },
    pkce: { required: () => true },
    acrValues,
    // Scope claims go into the ID token too, unless an account keeps them for userinfo.
    conformIdTokenClaims: false,
    claims: {
      // A broker always states the level and the time of the login.
      openid: ['sub', 'acr', 'auth_time'],
      profile: ['given_name', 'family_name', 'name'],
      // The Swedish OIDC profile's scope for the national id; the Finnish claim rides along.
      'https://id.oidc.se/scope/naturalPersonNumber': [SE_PNR, SE_COORDINATION, FI_HETU],
    },
    scopes: ['openid', 'profile', 'https://id.oidc.se/scope/naturalPersonNumber'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims(use) {
          const all = { sub: id, ...account.claims };
          if (use === 'id_token') {
            for (const name of account.userinfo_only || []) delete all[name];
          }
          return all;
        },
      };
    },
  });

  provider.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/interaction/')) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    let result;
    if (details.prompt.name === 'login') {
      const accountId = ctx.query.account;
      if (!accounts[accountId]) {
        ctx.status = 400;
        ctx.body = 'choose an account: ?account=<accountId>';
        return undefined;
      }
      const { acr } = accounts[accountId];
      result = { login: { accountId, ...(acr ? { acr } : {}) } };
    } else {
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const missing = details.prompt.details.missingOIDCClaims || [];
      if (missing.length) grant.addOIDCClaims(missing);
      result = { consent: { grantId: await grant.save() } };
    }
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
    return undefined;
  });

  server.on('request', provider.callback());
  process.stdout.write(`listening ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
