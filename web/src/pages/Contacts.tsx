// Placeholder: replaced by the page itself.
export default function Contacts() {
  return <h1>Contacts</h1>
}
