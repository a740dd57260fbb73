"""The supervisor wallboard (`ccd wallboard`, and the live view of `ccd demo`)."""
