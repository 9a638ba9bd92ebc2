// Shows how many visits the API has counted (it keeps them in the cache).
fetch(`${window.SHOP.api}/visits`, { credentials: 'include' })
  .then((response) => response.json())
  .then(({ visits }) => { document.getElementById('visits').textContent = `${visits} visits`; });
