import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCredentials, parseAwsIni, RemoteCredentialsError, resolveCredentials } from '../../../src/remote/credentials.js';
import { SecretMasker } from '../../../src/remote/secret-mask.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('remote credentials', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'orchestrate-creds-'));
    await mkdir(join(home, '.aws'));
    await writeFile(
      join(home, '.aws', 'credentials'),
      `[default]\naws_access_key_id = AKIAHOMEDEFAULT00001\naws_secret_access_key = ${SECRET}\n\n[backup]\naws_access_key_id=AKIAHOMEBACKUP000002\naws_secret_access_key=other-secret-value\naws_session_token = tok-123456789\n`,
      { mode: 0o600 },
    );
    await writeFile(
      join(home, '.aws', 'config'),
      `[profile cfg]\naws_access_key_id = AKIACONFIGPROFILE003\naws_secret_access_key = config-secret-value\n`,
    );
    await writeFile(
      join(home, 'named'),
      `# comment\n[default]\naws_access_key_id = AKIANAMEDFILE0000004\naws_secret_access_key = named-secret-value\n`,
    );
    await chmod(join(home, 'named'), 0o644);
  });
  after(() => rm(home, { recursive: true, force: true }));

  it('parses the AWS file format: sections, `profile x` headers, spaces, comments', () => {
    const sections = parseAwsIni('; c\n[profile a]\nKey = v \n# c\n[b]\nk=w=x\n');
    expect([...sections.keys()]).to.deep.equal(['a', 'b']);
    expect(sections.get('a')?.get('key')).to.equal('v');
    expect(sections.get('b')?.get('k')).to.equal('w=x');
  });

  it('order: the file the inventory names, then the environment, then ~/.aws/credentials, then ~/.aws/config', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIAENVIRONMENT00005', AWS_SECRET_ACCESS_KEY: 'env-secret-value' };
    expect((await resolveCredentials({ credentialsFile: join(home, 'named'), env, home })).accessKeyId).to.equal('AKIANAMEDFILE0000004');
    expect((await resolveCredentials({ env, home })).source).to.equal('environment (AWS_ACCESS_KEY_ID)');
    expect((await resolveCredentials({ env: {}, home })).accessKeyId).to.equal('AKIAHOMEDEFAULT00001');
    expect((await resolveCredentials({ env: {}, home, profile: 'cfg' })).accessKeyId).to.equal('AKIACONFIGPROFILE003');
  });

  it('the profile comes from the inventory, else AWS_PROFILE, else default; session tokens are kept', async () => {
    const fromEnv = await resolveCredentials({ env: { AWS_PROFILE: 'backup' }, home });
    expect([fromEnv.accessKeyId, fromEnv.sessionToken, fromEnv.source]).to.deep.equal([
      'AKIAHOMEBACKUP000002',
      'tok-123456789',
      `${join(home, '.aws', 'credentials')} [backup]`,
    ]);
    expect((await resolveCredentials({ env: { AWS_PROFILE: 'backup' }, home, profile: 'default' })).accessKeyId).to.equal('AKIAHOMEDEFAULT00001');
  });

  it('warns about a credentials file others can read', async () => {
    const found = await resolveCredentials({ credentialsFile: join(home, 'named'), env: {}, home });
    expect(found.warnings[0]).to.match(/readable by other users \(mode 644\): chmod 600/);
  });

  it('half of a key pair in the environment is an error, not a silent fallback', async () => {
    try {
      await resolveCredentials({ env: { AWS_ACCESS_KEY_ID: 'AKIAENVIRONMENT00005' }, home });
      expect.fail('should fail');
    } catch (error) {
      expect(error).to.be.instanceOf(RemoteCredentialsError);
      expect((error as Error).message).to.match(/only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    }
  });

  it('nothing found: one error naming every place looked at and the fix', async () => {
    try {
      await resolveCredentials({ env: {}, home: join(home, 'nowhere'), profile: 'x' });
      expect.fail('should fail');
    } catch (error) {
      expect(error).to.be.instanceOf(RemoteCredentialsError);
      expect((error as Error).message).to.match(
        /no S3 credentials found for profile \[x\]; looked at: AWS_ACCESS_KEY_ID .*credentials \(absent\).*config \(absent\)/,
      );
      expect((error as RemoteCredentialsError).hint).to.match(/export AWS_ACCESS_KEY_ID/);
    }
  });

  it('a named file without the profile fails (no fallback to other credentials)', async () => {
    try {
      await resolveCredentials({
        credentialsFile: join(home, 'named'),
        profile: 'missing',
        env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
        home,
      });
      expect.fail('should fail');
    } catch (error) {
      expect((error as Error).message).to.match(/has no aws_access_key_id and aws_secret_access_key in profile \[missing\]/);
    }
  });

  it('descriptions and masked messages never carry the secret', async () => {
    const found = await resolveCredentials({ env: {}, home });
    expect(describeCredentials(found)).to.equal(`AKIA…0001 from ${join(home, '.aws', 'credentials')} [default]`);
    const masker = new SecretMasker().add(found.secretAccessKey).add('short');
    expect(masker.mask(`denied for ${SECRET} at X-Amz-Signature=0123456789abcdef0123 short`)).to.equal(
      'denied for ******** at X-Amz-Signature=******** short',
    );
  });
});
