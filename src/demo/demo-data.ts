/**
 * A small, coherent NMDC-like dataset: two studies, their biosamples, one sequencing run per sample and
 * its reads as a data object whose bytes are a DRS blob on the hub. The ids are fixed so the README's
 * walkthroughs (and `examples/changesheet.tsv`) can name them.
 */

export const DEMO_STUDY_IDS = ['nmdc:sty-11-00000001', 'nmdc:sty-11-00000002'] as const;

/** Objects typed `test` trigger the `test` workflow: each becomes a job any site with `test` may claim. */
export const DEMO_SITE_JOB_INPUTS = 3;

export interface DemoBlob {
  readonly name: string;
  readonly description: string;
  readonly mimeType: string;
  readonly bytes: Buffer;
}

/** What the hub stored for a blob, as the metadata documents cite it. */
export interface StoredDemoBlob {
  readonly id: string;
  readonly size: number;
  readonly md5: string;
  readonly drsUri: string;
}

interface DemoSample {
  readonly n: number;
  readonly study: number;
  readonly name: string;
  readonly depthM: number;
  readonly ph: number;
  readonly latitude: number;
  readonly longitude: number;
  readonly medium: readonly [string, string];
}

const SAMPLES: readonly DemoSample[] = [
  {
    n: 1,
    study: 0,
    name: 'Prairie core A, 0-10 cm',
    depthM: 0.1,
    ph: 6.4,
    latitude: 39.1,
    longitude: -96.6,
    medium: ['ENVO:00001998', 'soil'],
  },
  {
    n: 2,
    study: 0,
    name: 'Prairie core A, 10-30 cm',
    depthM: 0.3,
    ph: 6.6,
    latitude: 39.1,
    longitude: -96.6,
    medium: ['ENVO:00001998', 'soil'],
  },
  {
    n: 3,
    study: 0,
    name: 'Prairie core B, 0-10 cm',
    depthM: 0.1,
    ph: 6.9,
    latitude: 39.2,
    longitude: -96.5,
    medium: ['ENVO:00001998', 'soil'],
  },
  {
    n: 4,
    study: 1,
    name: 'Estuary sediment, low tide',
    depthM: 0.05,
    ph: 7.4,
    latitude: 38.0,
    longitude: -122.4,
    medium: ['ENVO:00002007', 'sediment'],
  },
  {
    n: 5,
    study: 1,
    name: 'Estuary sediment, high tide',
    depthM: 0.05,
    ph: 7.6,
    latitude: 38.0,
    longitude: -122.4,
    medium: ['ENVO:00002007', 'sediment'],
  },
  {
    n: 6,
    study: 1,
    name: 'Estuary sediment, channel',
    depthM: 1.2,
    ph: 7.8,
    latitude: 38.1,
    longitude: -122.5,
    medium: ['ENVO:00002007', 'sediment'],
  },
];

const blade = (n: number): string => n.toString().padStart(8, '0');
export const demoBiosampleId = (n: number): string => `nmdc:bsm-11-${blade(n)}`;
export const demoDataObjectId = (n: number): string => `nmdc:dobj-11-${blade(n)}`;
const sequencingId = (n: number): string => `nmdc:dgns-11-${blade(n)}`;

const term = (id: string, name: string) => ({
  has_raw_value: `${name} [${id}]`,
  term: { id, name, type: 'nmdc:OntologyClass' },
  type: 'nmdc:ControlledIdentifiedTermValue',
});

/** A few FASTQ records whose bases depend only on the sample, so the bytes (and the blob) never change. */
function reads(sample: DemoSample): Buffer {
  const bases = 'ACGT';
  const lines: string[] = [];
  for (let r = 0; r < 4; r += 1) {
    let sequence = '';
    for (let i = 0; i < 60; i += 1) {
      sequence += bases[(sample.n * 7 + r * 13 + i * i) % 4];
    }
    lines.push(`@demo-${sample.n}-read-${r + 1}`, sequence, '+', 'I'.repeat(sequence.length));
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/** The blobs behind the data objects, keyed by sample number. */
export function demoReadBlobs(): Map<number, DemoBlob> {
  return new Map(
    SAMPLES.map((sample) => [
      sample.n,
      {
        name: `demo_reads_${sample.n}.fastq`,
        description: `Demo raw reads of ${sample.name}`,
        mimeType: 'text/plain',
        bytes: reads(sample),
      },
    ]),
  );
}

/** The inputs of the demo site jobs: small text objects typed `test`. */
export function demoJobInputBlobs(): DemoBlob[] {
  return Array.from({ length: DEMO_SITE_JOB_INPUTS }, (_, i) => ({
    name: `demo_job_input_${i + 1}.txt`,
    description: `Input of demo job ${i + 1} of the test workflow`,
    mimeType: 'text/plain',
    bytes: Buffer.from(`demo job input ${i + 1}\n`, 'utf8'),
  }));
}

/** The metadata documents by collection, citing the stored read blobs by DRS URI, size and md5. */
export function demoDocuments(
  blobs: ReadonlyMap<number, StoredDemoBlob>,
): Record<string, Record<string, unknown>[]> {
  const studies = [
    {
      id: DEMO_STUDY_IDS[0],
      type: 'nmdc:Study',
      name: 'Prairie soil microbiome',
      title: 'Microbial communities of a restored tallgrass prairie',
      description: 'Soil cores from a restored tallgrass prairie',
      study_category: 'research_study',
      ecosystem_category: 'Terrestrial',
      principal_investigator: { name: 'Marie Hopper', type: 'nmdc:PersonValue' },
    },
    {
      id: DEMO_STUDY_IDS[1],
      type: 'nmdc:Study',
      name: 'Estuary sediment microbiome',
      title: 'Tidal effects on estuarine sediment communities',
      description: 'Sediment samples across one tidal cycle',
      study_category: 'research_study',
      ecosystem_category: 'Aquatic',
    },
  ];
  const biosamples = SAMPLES.map((sample) => ({
    id: demoBiosampleId(sample.n),
    type: 'nmdc:Biosample',
    name: sample.name,
    description: `Demo sample ${sample.n}: ${sample.name}`,
    associated_studies: [DEMO_STUDY_IDS[sample.study]],
    env_broad_scale:
      sample.study === 0
        ? term('ENVO:01000177', 'grassland biome')
        : term('ENVO:01000020', 'estuarine biome'),
    env_local_scale: sample.study === 0 ? term('ENVO:00000260', 'prairie') : term('ENVO:00000045', 'estuary'),
    env_medium: term(...sample.medium),
    depth: { has_numeric_value: sample.depthM, has_unit: 'm', type: 'nmdc:QuantityValue' },
    ph: sample.ph,
    lat_lon: { latitude: sample.latitude, longitude: sample.longitude, type: 'nmdc:GeolocationValue' },
    ecosystem_category: sample.study === 0 ? 'Terrestrial' : 'Aquatic',
  }));
  const dataObjects = SAMPLES.map((sample) => {
    const blob = blobs.get(sample.n);
    if (!blob) {
      throw new Error(`the reads of demo sample ${sample.n} were not stored`);
    }
    return {
      id: demoDataObjectId(sample.n),
      type: 'nmdc:DataObject',
      name: `demo_reads_${sample.n}.fastq`,
      description: `Raw reads of ${sample.name}`,
      data_category: 'instrument_data',
      data_object_type: 'Metagenome Raw Reads',
      file_size_bytes: blob.size,
      md5_checksum: blob.md5,
      url: blob.drsUri,
      was_generated_by: sequencingId(sample.n),
    };
  });
  const sequencing = SAMPLES.map((sample) => ({
    id: sequencingId(sample.n),
    type: 'nmdc:NucleotideSequencing',
    name: `Sequencing of ${sample.name}`,
    analyte_category: 'metagenome',
    associated_studies: [DEMO_STUDY_IDS[sample.study]],
    has_input: [demoBiosampleId(sample.n)],
    has_output: [demoDataObjectId(sample.n)],
    processing_institution: 'JGI',
  }));
  return {
    study_set: studies,
    biosample_set: biosamples,
    data_generation_set: sequencing,
    data_object_set: dataObjects,
  };
}
