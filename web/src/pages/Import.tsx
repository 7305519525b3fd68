// Placeholder: replaced by the page itself.
export default function Import() {
  return <h1>Import</h1>
}
