// Placeholder: replaced by the page itself.
export default function ForgotPassword() {
  return <h1>ForgotPassword</h1>
}
