// The `.hdc` launch used by the SMART tests and the benchmark: three forms chosen by the patient's
// data (a child → pediatrics; active medication requests → medication review; else general).
// Written with the peers' URLs once they are known.
import { syntheaPatients, type SyntheaPatient } from '../../peers/synthea.ts';

export interface LaunchHdcOptions {
  name?: string;
  fhirBase: string;
  formsOrigin: string;
  /** The client block lines (client_id, client_secret / private_key …). */
  client?: string;
  /** A `login …` block. */
  login?: string;
  standalone?: boolean;
  sign?: boolean;
  scope?: string;
}

export function launchHdc(o: LaunchHdcOptions): string {
  const name = o.name ?? 'intake';
  const f = o.formsOrigin;
  return `
smart launch ${name} {
  ${o.client ?? 'client_id "intake-app"\n  client_secret env("INTAKE_SECRET")'}
  scope "${o.scope ?? 'launch openid fhirUser patient/Patient.rs patient/MedicationRequest.rs patient/Observation.rs'}"
  issuers "${o.fhirBase}"
  ${o.standalone === false ? '' : `standalone "${o.fhirBase}"`}
  targets "${f}/peds", "${f}/meds", "${f}/general"
  ${o.sign === false ? '' : 'sign env("FORM_KEY") 5m'}
  ${o.login ?? ''}

  fetch {
    patient = read Patient context.patient
    meds = search MedicationRequest { patient: "Patient/{context.patient}" }
    vitals = search Observation { patient: "Patient/{context.patient}", _count: "10" } pages 3
  }
  map {
    given: patient.name[0].given[0],
    family: patient.name[0].family,
    birth_date: patient.birthDate,
    meds: count(meds.entry),
    observations: count(vitals.entry)
  }
  redirect {
    when patient.birthDate >= "2010-01-01"
      to "${f}/peds" with { given: data.given, family: data.family, birth_date: data.birth_date }
    when exists(meds.entry)
      to "${f}/meds" with { given: data.given, meds: data.meds, clinician: context.fhirUser, banner: context.need_patient_banner }
    otherwise to "${f}/general" with { given: data.given, observations: data.observations${o.login ? ', user: user.email' : ''} }
  }
}
`;
}

/** Synthea patients whose data selects each form. */
export function fixturePatients(): { child: SyntheaPatient; medicated: SyntheaPatient; general: SyntheaPatient } {
  const all = syntheaPatients();
  const by = (s: string) => all.find((p) => p.file.includes(s))!;
  return { child: by('Catheryn_Macejkovic'), medicated: by('Wm_Bergstrom'), general: by('Sherman_Green') };
}
