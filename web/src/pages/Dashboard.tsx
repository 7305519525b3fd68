// Placeholder: replaced by the page itself.
export default function Dashboard() {
  return <h1>Dashboard</h1>
}
