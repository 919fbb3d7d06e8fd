# Any text containing `}` works. Escaping would not save this framing: JSON does not escape `}` inside
# strings.
breaking_text = "a } in the middle"
