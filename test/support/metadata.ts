import { MetadataStore } from '../../src/metadata/metadata-store.service.js';
import type { TestHub } from './harness.js';

/** A deterministic, schema-shaped id: `nmdc:<typecode>-11-<blade>`, blades ordered like `n`. */
export function nmdcId(typecode: string, n: number, suffix = ''): string {
  return `nmdc:${typecode}-11-${n.toString(36).padStart(8, '0')}${suffix}`;
}

const term = (id: string, name: string) => ({
  has_raw_value: `${name} [${id}]`,
  term: { id, name, type: 'nmdc:OntologyClass' },
  type: 'nmdc:ControlledIdentifiedTermValue',
});

export function study(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: nmdcId('sty', n),
    type: 'nmdc:Study',
    name: `Study ${n}`,
    description: `A study numbered ${n}`,
    study_category: 'research_study',
    ecosystem_category: n % 2 === 0 ? 'Terrestrial' : 'Aquatic',
    ...extra,
  };
}

export function biosample(
  n: number,
  studyId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: nmdcId('bsm', n),
    type: 'nmdc:Biosample',
    name: `Sample ${n}`,
    description: `Soil core ${n}`,
    associated_studies: [studyId],
    env_broad_scale: term('ENVO:00000446', 'terrestrial biome'),
    env_local_scale: term('ENVO:00000292', 'watershed'),
    env_medium: term('ENVO:00001998', 'soil'),
    depth: { has_numeric_value: n % 50, has_unit: 'm', type: 'nmdc:QuantityValue' },
    lat_lon: { latitude: 35 + (n % 10), longitude: -120, type: 'nmdc:GeolocationValue' },
    ecosystem_category: n % 3 === 0 ? 'Plants' : 'Terrestrial',
    ...extra,
  };
}

export function dataObject(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: nmdcId('dobj', n),
    type: 'nmdc:DataObject',
    name: `reads_${n}.fastq.gz`,
    description: `Raw reads ${n}`,
    data_category: 'instrument_data',
    data_object_type: 'Metagenome Raw Reads',
    file_size_bytes: 1000 + n,
    md5_checksum: n.toString(16).padStart(32, '0'),
    url: `https://data.example.org/${n}.fastq.gz`,
    ...extra,
  };
}

export function sequencing(
  n: number,
  studyId: string,
  sampleId: string,
  outputs: string[],
): Record<string, unknown> {
  return {
    id: nmdcId('dgns', n),
    type: 'nmdc:NucleotideSequencing',
    name: `Sequencing ${n}`,
    analyte_category: 'metagenome',
    associated_studies: [studyId],
    has_input: [sampleId],
    has_output: outputs,
    processing_institution: 'JGI',
  };
}

export function assembly(n: number, informedBy: string, inputs: string[]): Record<string, unknown> {
  return {
    id: nmdcId('wfmgas', n, '.1'),
    type: 'nmdc:MetagenomeAssembly',
    name: `Assembly ${n}`,
    has_input: inputs,
    was_informed_by: [informedBy],
    started_at_time: '2024-05-01T10:00:00Z',
    ended_at_time: '2024-05-01T12:00:00Z',
    execution_resource: 'NERSC-Perlmutter',
    git_url: 'https://github.com/microbiomedata/metaAssembly',
    processing_institution: 'NMDC',
    contigs: 100 + n,
  };
}

/** Stores documents straight through the in-process store (validated, but without HTTP). */
export async function seed(hub: TestHub, batch: Record<string, Record<string, unknown>[]>): Promise<void> {
  await hub.app.get(MetadataStore).putBatch(new Map(Object.entries(batch)), 'insert');
}
