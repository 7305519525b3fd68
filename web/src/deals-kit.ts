/** Deal queries and the stage change shared by the board, the deals table and the deal page. */
import type { Schemas } from '@mini-crm/client'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { crm, org, unwrap } from './api.ts'
import { useOrganizationId } from './session.tsx'

export type Deal = Schemas['Deal']
export type DealPatch = Schemas['UpdateDealBody']

export function patchDeal(id: string, body: DealPatch): Promise<Deal> {
  return unwrap(crm.PATCH('/api/v1/deals/{id}', { params: { path: { id }, header: org() }, body }))
}

/** After any deal write: lists, board, analytics and the deal's page show it (the server is the truth). */
export function useInvalidateDeals() {
  const queryClient = useQueryClient()
  const organizationId = useOrganizationId()
  return (dealId?: string) =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: [organizationId, 'board'] }),
      queryClient.invalidateQueries({ queryKey: [organizationId, 'deals'] }),
      queryClient.invalidateQueries({ queryKey: [organizationId, 'analytics'] }),
      // The deal, its stage history (under the deal's key) and its feed (status and stage activities).
      dealId ? queryClient.invalidateQueries({ queryKey: [organizationId, 'deal', dealId] }) : undefined,
      dealId
        ? queryClient.invalidateQueries({ queryKey: [organizationId, 'activities', dealId] })
        : undefined,
    ])
}

/** A PATCH of one deal from its page (fields, won, lost), refreshing everything that shows deals. */
export function useDealUpdate(dealId: string) {
  const invalidate = useInvalidateDeals()
  const queryClient = useQueryClient()
  const organizationId = useOrganizationId()
  return useMutation({
    mutationFn: (body: DealPatch) => patchDeal(dealId, body),
    onSuccess: (deal) => {
      queryClient.setQueryData([organizationId, 'deal', dealId], deal)
      void invalidate(dealId)
    },
  })
}
