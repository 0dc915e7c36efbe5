/**
 * Alibaba's KMS SDK, bundled on its own (dist/kms-sdk.js, build/cli/kms-sdk.js) and loaded only
 * when a secret is read: with its dependencies it is ~1.4 MB of JavaScript, which a function
 * without KMS secrets would otherwise parse at every cold start.
 */
import Kms, { GetSecretValueRequest } from '@alicloud/kms20160120';

export { Kms, GetSecretValueRequest };
