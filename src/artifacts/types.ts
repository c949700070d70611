/** An artifact as the API and the ZooKeeper record show it (contract: "Artifact"). */
export interface Artifact {
  id: string;
  groupId: string;
  artifactId: string;
  version: string;
  state: 'installing' | 'installed';
  path: string;
  sizeBytes: number;
  fileCount: number;
  sha256: string | null;
  source: string | null;
  installedAt: string | null;
  progress: { bytes: number; totalBytes: number | null };
}
