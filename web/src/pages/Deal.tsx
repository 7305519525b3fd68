// Placeholder: replaced by the page itself.
export default function Deal() {
  return <h1>Deal</h1>
}
