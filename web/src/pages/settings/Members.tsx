/** Members and their roles: owners and admins change roles and remove; anyone may leave. */
import type { Schemas } from '@mini-crm/client'
import { useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useNavigate } from 'react-router'
import { crm, unwrap } from '../../api.ts'
import { useMembers } from '../../queries.ts'
import { useOrganizationId, useSession } from '../../session.tsx'
import { ConfirmButton, ErrorMessage, formatTime, Loading, TableWrap, useNotify } from '../../ui.tsx'
import { grantableRoles, type Role, roleLabel } from './shared.tsx'

type Member = Schemas['Member']

export default function Members() {
  const organizationId = useOrganizationId()
  const { me, organization, can, reloadOrganizations } = useSession()
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const notify = useNotify()
  const { data: members, error: loadError, isPending } = useMembers()
  const [error, setError] = useState<unknown>()
  const [changing, setChanging] = useState<string>()
  const myRole = organization?.role

  /** Admins touch only managers and members (organizations/rules.ts); nobody changes their own role. */
  const mayManage = (member: Member, action: 'member.change_role' | 'member.remove') =>
    member.user_id !== me?.id &&
    can(action) &&
    (myRole === 'owner' || (member.role !== 'owner' && member.role !== 'admin'))

  async function changeRole(member: Member, role: Role) {
    setChanging(member.user_id)
    setError(undefined)
    try {
      await unwrap(
        crm.PATCH('/api/v1/organizations/{id}/members/{user_id}', {
          params: { path: { id: organizationId, user_id: member.user_id } },
          body: { role },
        }),
      )
      notify('info', `${member.name} is now ${roleLabel(role).toLowerCase()}`)
    } catch (failure) {
      setError(failure)
    } finally {
      setChanging(undefined)
      await queryClient.invalidateQueries({ queryKey: [organizationId, 'members'] })
    }
  }

  async function remove(member: Member) {
    await unwrap(
      crm.DELETE('/api/v1/organizations/{id}/members/{user_id}', {
        params: { path: { id: organizationId, user_id: member.user_id } },
      }),
    )
    notify('info', `${member.name} was removed`)
    await queryClient.invalidateQueries({ queryKey: [organizationId, 'members'] })
  }

  async function leave() {
    if (!me) return
    await unwrap(
      crm.DELETE('/api/v1/organizations/{id}/members/{user_id}', {
        params: { path: { id: organizationId, user_id: me.id } },
      }),
    )
    queryClient.removeQueries({ queryKey: [organizationId] })
    await reloadOrganizations()
    notify('info', `You left ${organization?.name ?? 'the organization'}`)
    navigate('/')
  }

  return (
    <>
      <section className="card stack" aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        {isPending ? <Loading /> : null}
        <ErrorMessage error={loadError} />
        <ErrorMessage error={error} />
        {members ? (
          <TableWrap label="Members table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Joined</th>
                  {can('member.remove') ? (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {members.map((member) => {
                  const selectId = `role-${member.user_id}`
                  const options = grantableRoles(myRole)
                  return (
                    <tr key={member.user_id}>
                      <td className="cell-wrap">
                        {member.name}
                        {member.user_id === me?.id ? <span className="muted"> (you)</span> : null}
                      </td>
                      <td className="cell-wrap">{member.email}</td>
                      <td>
                        {mayManage(member, 'member.change_role') ? (
                          <>
                            <label className="visually-hidden" htmlFor={selectId}>
                              Role of {member.name}
                            </label>
                            <select
                              id={selectId}
                              value={member.role}
                              disabled={changing === member.user_id}
                              onChange={(event) => void changeRole(member, event.target.value as Role)}
                            >
                              {(options.includes(member.role) ? options : [member.role, ...options]).map(
                                (role) => (
                                  <option key={role} value={role}>
                                    {roleLabel(role)}
                                  </option>
                                ),
                              )}
                            </select>
                          </>
                        ) : (
                          <span className="badge">{roleLabel(member.role)}</span>
                        )}
                      </td>
                      <td className="time">{formatTime(member.joined_at)}</td>
                      {can('member.remove') ? (
                        <td>
                          {mayManage(member, 'member.remove') ? (
                            <ConfirmButton
                              label="Remove"
                              accessibleLabel={`Remove ${member.name}`}
                              title="Remove member"
                              question={`Remove ${member.name} (${member.email}) from ${organization?.name ?? 'this organization'}? Their records stay.`}
                              confirm="Remove member"
                              action={() => remove(member)}
                            />
                          ) : null}
                        </td>
                      ) : null}
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </section>
      {can('member.leave') ? (
        <section className="card stack" aria-labelledby="leave-heading">
          <h2 id="leave-heading">Leave organization</h2>
          <p className="muted">
            You lose access to {organization?.name ?? 'this organization'} until someone invites you again.
            The last owner cannot leave.
          </p>
          <div>
            <ConfirmButton
              label="Leave organization"
              className="danger"
              title="Leave organization"
              question={`Leave ${organization?.name ?? 'this organization'}?`}
              confirm="Leave"
              action={leave}
            />
          </div>
        </section>
      ) : null}
    </>
  )
}
