// Placeholder: replaced by the page itself.
export default function Companies() {
  return <h1>Companies</h1>
}
