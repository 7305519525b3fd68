// Placeholder: replaced by the page itself.
export default function Contact() {
  return <h1>Contact</h1>
}
