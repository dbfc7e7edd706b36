// The npm packages measured against have no type declarations; the benchmarks use them loosely.
declare module 'simple-hl7';
declare module 'hl7-standard';
declare module 'autocannon';
declare module 'split2';
