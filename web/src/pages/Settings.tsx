// Placeholder: replaced by the page itself.
export default function Settings() {
  return <h1>Settings</h1>
}
