// Placeholder: replaced by the page itself.
export default function AcceptInvitation() {
  return <h1>AcceptInvitation</h1>
}
