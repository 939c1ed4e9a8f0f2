"""Sessions: barcamp events with program, slots, session proposals, sign-ups, wait lists, agenda and iCal."""
