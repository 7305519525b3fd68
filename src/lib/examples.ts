/**
 * Ids shared by the OpenAPI examples (schemas' `examples`), so one story reads across them: the deal belongs to
 * the contact, who works for the company, all in one organization. The figures of the analytics examples are
 * those of the demo organization of `npm run seed`.
 */
export const EXAMPLE_IDS = {
  organization: '0193c9a0-1b2c-7d3e-8f40-5a6b7c8d9e01',
  owner: '0193c9a0-2c3d-7e4f-9a51-6b7c8d9e0f12',
  member: '0193c9a0-3d4e-7f50-8b62-7c8d9e0f1a23',
  company: '0193c9a1-4e5f-7061-9c73-8d9e0f1a2b34',
  contact: '0193c9a2-7c1e-7b4e-9a51-2f6d4c8e1a10',
  deal: '0193c9a3-5f60-7172-8d84-9e0f1a2b3c45',
  lostDeal: '0193c9a3-6071-7283-9e95-0f1a2b3c4d56',
} as const
