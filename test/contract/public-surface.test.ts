/**
 * The public surface of the protocol packages (issue 10): the runtime exports of every subpath
 * in each package.json's exports map, against the lists below, which are the "API" lists of the
 * package READMEs. Adding or removing an export is a deliberate act: change the list, the README
 * and docs/embedding.md together. (Type-only exports have no runtime name; the READMEs list them.)
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { HttpMethodSession, HttpMethodSpec } from '@gorgon/http/server';

const surface: Record<string, string[]> = {
  '@gorgon/finger/server': [
    'JsonUserDirectory',
    'MemoryUserDirectory',
    'SystemUserDirectory',
    'createFingerServer',
    'loadJsonUsers',
    'matchesName',
  ],
  '@gorgon/finger/client': ['FingerError', 'finger', 'parseFingerTarget'],
  '@gorgon/finger/testing': ['contractUsers', 'runContract', 'userDirectoryContract'],
  '@gorgon/pop3/server': ['MaildirStore', 'MaildropError', 'MemoryMaildropStore', 'createPop3Server', 'deliver', 'wireSize'],
  '@gorgon/pop3/testing': ['maildropContract', 'runContract'],
  '@gorgon/ftp/server': ['DiskFs', 'FsError', 'MemoryFs', 'createFtpServer', 'parsePermissions', 'parsePortRange'],
  '@gorgon/ftp/client': ['FetchUrlError', 'FtpClient', 'FtpClientError', 'FtpError', 'certificateProblem', 'fetchFiles'],
  '@gorgon/ftp/testing': ['contractFiles', 'runContract', 'virtualFsContract'],
  '@gorgon/http/server': ['DiskStore', 'MemoryStore', 'createHttpServer', 'statuses'],
  '@gorgon/http/client': [
    'HttpClient',
    'HttpClientError',
    'HttpConnection',
    'HttpStatusError',
    'PART_SUFFIX',
    'certificateProblem',
    'describeGetError',
    'getUrls',
    'isRetryable',
    'localNameFor',
    'parseHttpUrl',
  ],
  '@gorgon/http/testing': ['httpStoreContract', 'runContract'],
  '@gorgon/nntp/server': [
    'DiskNewsStore',
    'FeedQueue',
    'Feeds',
    'FeedsConfigError',
    'MemoryNewsStore',
    'NewsStoreError',
    'backoffDelay',
    'createNntpServer',
    'injectArticle',
    'isValidGroupName',
    'isWildmat',
    'parseDistribPats',
    'parseFeedsConfig',
    'pathHosts',
    'pathNames',
    'wildmat',
  ],
  '@gorgon/nntp/client': [
    'FilterRulesError',
    'NntpClient',
    'NntpClientError',
    'PullState',
    'articleHeaders',
    'dataLines',
    'judge',
    'maildirSink',
    'mboxSink',
    'openSink',
    'parseNewsUrl',
    'parseOverview',
    'parseRules',
    'pullNews',
  ],
  '@gorgon/nntp/testing': ['newsStoreContract', 'runContract'],
};
// The root of each package re-exports its server and client subpaths.
surface['@gorgon/finger'] = [...surface['@gorgon/finger/server']!, ...surface['@gorgon/finger/client']!].sort();
surface['@gorgon/pop3'] = [...surface['@gorgon/pop3/server']!];
surface['@gorgon/ftp'] = [...surface['@gorgon/ftp/server']!, ...surface['@gorgon/ftp/client']!].sort();
surface['@gorgon/http'] = [...surface['@gorgon/http/server']!, ...surface['@gorgon/http/client']!].sort();
surface['@gorgon/nntp'] = [...surface['@gorgon/nntp/server']!, ...surface['@gorgon/nntp/client']!].sort();

const load: Record<string, () => Promise<object>> = {
  '@gorgon/finger': () => import('@gorgon/finger'),
  '@gorgon/finger/server': () => import('@gorgon/finger/server'),
  '@gorgon/finger/client': () => import('@gorgon/finger/client'),
  '@gorgon/finger/testing': () => import('@gorgon/finger/testing'),
  '@gorgon/pop3': () => import('@gorgon/pop3'),
  '@gorgon/pop3/server': () => import('@gorgon/pop3/server'),
  '@gorgon/pop3/testing': () => import('@gorgon/pop3/testing'),
  '@gorgon/ftp': () => import('@gorgon/ftp'),
  '@gorgon/ftp/server': () => import('@gorgon/ftp/server'),
  '@gorgon/ftp/client': () => import('@gorgon/ftp/client'),
  '@gorgon/ftp/testing': () => import('@gorgon/ftp/testing'),
  '@gorgon/http': () => import('@gorgon/http'),
  '@gorgon/http/server': () => import('@gorgon/http/server'),
  '@gorgon/http/client': () => import('@gorgon/http/client'),
  '@gorgon/http/testing': () => import('@gorgon/http/testing'),
  '@gorgon/nntp': () => import('@gorgon/nntp'),
  '@gorgon/nntp/server': () => import('@gorgon/nntp/server'),
  '@gorgon/nntp/client': () => import('@gorgon/nntp/client'),
  '@gorgon/nntp/testing': () => import('@gorgon/nntp/testing'),
};

describe('the public surface of each subpath', () => {
  it.each(Object.keys(surface))('%s exports exactly its list', async (specifier) => {
    expect(Object.keys(await load[specifier]!()).sort()).toEqual([...surface[specifier]!].sort());
  });

  it.each(['finger', 'pop3', 'ftp', 'http', 'nntp'])(
    '@gorgon/%s: the exports map has exactly these subpaths, each with gorgon-source, types and import',
    async (name) => {
      const manifest = JSON.parse(await readFile(new URL(`../../packages/${name}/package.json`, import.meta.url), 'utf8'));
      const listed = Object.keys(surface)
        .filter((s) => s === `@gorgon/${name}` || s.startsWith(`@gorgon/${name}/`))
        .map((s) => `.${s.slice(`@gorgon/${name}`.length)}`)
        .sort();
      expect(Object.keys(manifest.exports).sort()).toEqual(listed);
      for (const conditions of Object.values(manifest.exports))
        expect(Object.keys(conditions as object)).toEqual(['gorgon-source', 'types', 'import']);
    },
  );

  it.each(['finger', 'pop3', 'ftp', 'http', 'nntp'])("@gorgon/%s's README lists every runtime export of every subpath", async (name) => {
    const readme = await readFile(new URL(`../../packages/${name}/README.md`, import.meta.url), 'utf8');
    const api = readme.slice(readme.indexOf('\n## API'));
    expect(api.length, 'the README has an "## API" section').toBeGreaterThan(10);
    for (const [specifier, names] of Object.entries(surface)) {
      if (!specifier.startsWith(`@gorgon/${name}/`)) continue;
      expect(api, specifier).toContain(`\`${specifier}\``);
      for (const n of names) expect(api, `${specifier} ${n}`).toMatch(new RegExp(`\`${n}[\`(]`));
    }
  });

  it("@gorgon/http: a method row sees the narrow HttpMethodSession, not the server's internal context", () => {
    const row: HttpMethodSpec = {
      verb: 'XPING',
      args: 'required',
      help: 'XPING <target>',
      run: (s: HttpMethodSession) => s.respond(200, `Allow: ${s.allow}\r\n`, `${s.request?.target.path} ${s.remoteAddress}\n`),
    };
    // @ts-expect-error the session's context (limits, store, table, stats) is not public
    const internal = (s: HttpMethodSession) => s.ctx;
    expect([row.verb, typeof internal]).toEqual(['XPING', 'function']);
  });
});
