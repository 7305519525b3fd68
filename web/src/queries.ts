/** Server state shared by several pages (TanStack Query); keys start with the organization id. */
import { useQuery } from '@tanstack/react-query'
import { crm, org, unwrap } from './api.ts'
import { useOrganizationId } from './session.tsx'

export function useMembers() {
  const organizationId = useOrganizationId()
  return useQuery({
    queryKey: [organizationId, 'members'],
    queryFn: () =>
      unwrap(crm.GET('/api/v1/organizations/{id}/members', { params: { path: { id: organizationId } } })),
    staleTime: 60_000,
  })
}

/** user id → name, for owner columns. */
export function useMemberNames(): (userId: string | null | undefined) => string {
  const { data } = useMembers()
  return (userId) => data?.find((member) => member.user_id === userId)?.name ?? '—'
}

export function useOrganization() {
  const organizationId = useOrganizationId()
  return useQuery({
    queryKey: [organizationId, 'organization'],
    queryFn: () =>
      unwrap(crm.GET('/api/v1/organizations/{id}', { params: { path: { id: organizationId } } })),
    staleTime: 60_000,
  })
}

export function usePipeline() {
  const organizationId = useOrganizationId()
  return useQuery({
    queryKey: [organizationId, 'pipeline'],
    queryFn: () => unwrap(crm.GET('/api/v1/pipeline', { params: { header: org() } })),
    staleTime: 60_000,
  })
}
