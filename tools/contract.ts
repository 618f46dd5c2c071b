import { z } from 'zod';

/**
 * The contract of the MCP tools that wrap the sandbox 一网通办 service API. The agent (an
 * MCP client of this project's own server) and any outside MCP client rely on these names
 * and shapes. The acting citizen is never an argument: it is the authenticated connection.
 */
export const TOOL = {
  searchServices: 'search_services',
  getServiceGuide: 'get_service_guide',
  getMyProfile: 'get_my_profile',
  listMyLicences: 'list_my_licences',
  prefillApplication: 'prefill_application',
  submitApplication: 'submit_application',
  getApplicationStatus: 'get_application_status',
  listMyApplications: 'list_my_applications',
  createHandoff: 'create_handoff',
} as const;

export const ApplicationStatus = z.enum(['draft', 'submitted', 'issued', 'under_review', 'rejected', 'returned']);
export type ApplicationStatus = z.infer<typeof ApplicationStatus>;

export const FieldValues = z.record(z.string().regex(/^[a-z_]{1,40}$/), z.string().max(200));

// ---- inputs -------------------------------------------------------------------------------
export const SearchServicesInput = z.object({ query: z.string().min(1).max(500), limit: z.number().int().min(1).max(30).optional() });
export const GetServiceGuideInput = z.object({ serviceId: z.string().min(1).max(64) });
export const PrefillInput = z.object({
  serviceId: z.string().min(1).max(64),
  /** Values the citizen has already given, so conditional fields and `missing` are right. */
  values: FieldValues.optional(),
});
export const SubmitInput = z.object({
  serviceId: z.string().min(1).max(64),
  /** `ask` fields, plus replacements for editable profile fields (mailing_address, bank_account). */
  values: FieldValues,
  /** The same key always yields the same application (retries, double clicks). */
  idempotencyKey: z.string().min(8).max(128),
  sessionId: z.string().max(128).optional(),
});
export const ApplicationStatusInput = z.object({ applicationId: z.string().min(1).max(64) });
export const TranscriptEntry = z.object({ role: z.enum(['citizen', 'agent', 'staff']), text: z.string().max(20_000), at: z.string().optional() });
export const CreateHandoffInput = z.object({
  reason: z.enum(['citizen_request', 'review', 'ineligible', 'not_understood', 'no_answer', 'other']),
  reasonText: z.string().max(500).optional(),
  serviceId: z.string().max(64).nullable().optional(),
  sessionId: z.string().max(128).optional(),
  applicationId: z.string().max(64).optional(),
  transcript: z.array(TranscriptEntry).max(200),
  understanding: z.record(z.string(), z.unknown()).optional(),
  form: z.record(z.string(), z.unknown()).optional(),
});

// ---- outputs ------------------------------------------------------------------------------
export const ServiceSummary = z.object({
  id: z.string(), name: z.string(), department: z.string(), transactable: z.boolean(), score: z.number().optional(),
});

export const PrefilledField = z.object({
  key: z.string(),
  label: z.string(),
  source: z.enum(['profile', 'ask', 'derived']),
  /** The raw value, or null when still open. */
  value: z.string().nullable(),
  /** What a citizen or staff member is shown: ID numbers, phones and accounts masked. */
  display: z.string().nullable(),
  options: z.array(z.string()).optional(),
  /** The field applies given the values so far (its `when` condition holds). */
  applies: z.boolean(),
  /** The citizen may replace the pre-filled value (e.g. mailing address, bank account). */
  editable: z.boolean(),
});
export type PrefilledField = z.infer<typeof PrefilledField>;

export const Eligibility = z.object({
  eligible: z.boolean(),
  /** not_applicable: the service does not apply to this person; ineligible: a condition fails. */
  code: z.enum(['ok', 'not_applicable', 'ineligible']),
  /** Chinese reason a citizen can understand. */
  reason: z.string().optional(),
  /** A better-fitting service, where there is one. */
  alternative: z.object({ serviceId: z.string(), name: z.string() }).optional(),
});
export type Eligibility = z.infer<typeof Eligibility>;

export const Prefill = z.object({
  serviceId: z.string(),
  serviceName: z.string(),
  fields: z.array(PrefilledField),
  /** `ask` fields that apply and are still open, in catalogue order. */
  missing: z.array(z.string()),
  eligibility: Eligibility,
});
export type Prefill = z.infer<typeof Prefill>;

export const Application = z.object({
  id: z.string(),
  serviceId: z.string(),
  serviceName: z.string(),
  status: ApplicationStatus,
  /** Chinese: what happens next (never mentions why a case is under review). */
  statusMessage: z.string(),
  fields: z.record(z.string(), z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Application = z.infer<typeof Application>;

export const SubmitResult = z.object({
  application: Application,
  /** True when the idempotency key had been used: the earlier application is returned. */
  duplicate: z.boolean(),
  /** An e-licence delivered to the citizen's card wallet (卡包), when one was issued. */
  licence: z.object({ id: z.string(), name: z.string() }).nullable(),
});
export type SubmitResult = z.infer<typeof SubmitResult>;

export const Handoff = z.object({ id: z.string(), status: z.enum(['waiting', 'claimed', 'closed']), reason: z.string() });
export type Handoff = z.infer<typeof Handoff>;

// ---- outputs added with the sandbox service (additive: nothing above was changed) ---------
/** The caller's own shared-data profile; identifiers are masked. */
export const Profile = z.object({
  citizenId: z.string(),
  name: z.string(),
  gender: z.string().nullable(),
  /** Masked, e.g. 310101********2038. */
  idNumber: z.string(),
  birthDate: z.string(),
  age: z.number().int(),
  /** Masked, e.g. 138****0001. */
  phone: z.string().nullable(),
  household: z.object({ shanghai: z.boolean(), address: z.string().nullable() }),
  residenceAddress: z.string().nullable(),
  /** Masked, e.g. **** **** **** 0001. */
  bankAccount: z.string().nullable(),
  fundAccount: z.string().nullable(),
});
export type Profile = z.infer<typeof Profile>;

/** An e-licence in the citizen's card wallet (卡包). */
export const Licence = z.object({
  id: z.string(),
  name: z.string(),
  issuer: z.string(),
  /** Licence number, masked where it is an identifier. */
  number: z.string(),
  /** shared: from the licence registry; issued: delivered by an application made here. */
  source: z.enum(['shared', 'issued']),
  applicationId: z.string().nullable(),
  issuedAt: z.string(),
  validUntil: z.string().nullable(),
});
export type Licence = z.infer<typeof Licence>;

export const GuideSection = z.object({ title: z.string(), content: z.string() });
export const ServiceGuide = z.object({
  serviceId: z.string(),
  name: z.string(),
  department: z.string(),
  transactable: z.boolean(),
  aliases: z.array(z.string()),
  /** False while the guide has not been written yet; `message` then says so in Chinese. */
  available: z.boolean(),
  message: z.string().optional(),
  updated: z.string().nullable(),
  references: z.array(z.string()),
  sections: z.array(GuideSection),
});
export type ServiceGuide = z.infer<typeof ServiceGuide>;

/** MCP structured content must be an object, so lists are wrapped. */
export const ServiceList = z.object({ services: z.array(ServiceSummary) });
export const LicenceList = z.object({ licences: z.array(Licence) });
export const ApplicationList = z.object({ applications: z.array(Application) });
