// Placeholder: replaced by the page itself.
export default function ResetPassword() {
  return <h1>ResetPassword</h1>
}
