import { NewOrganizationForm } from './NoOrganization.tsx'

export default function NewOrganization() {
  return (
    <>
      <h1>New organization</h1>
      <p className="muted">You will be its owner; switch between your organizations from the top bar.</p>
      <NewOrganizationForm />
    </>
  )
}
