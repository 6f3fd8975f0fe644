//! The desk's reply templates (定型文), per municipality: the desk and admins keep them
//! (every change in the audit log); every staff member of the municipality may use one
//! in a reply, rendered for the proposal with its placeholders filled in. Another
//! municipality's templates are "not found".
